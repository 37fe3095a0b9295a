import type { CableEnvelope, CableEventMap, CableEventName } from './types.js';

/**
 * A typed /cable client: the ActionCable JSON protocol (welcome, ping, subscribe → confirm /
 * reject, message frames, disconnect) over the browser's or Node's WebSocket. Event payloads are
 * typed by the server's socket event schemas (components.schemas.CableEnvelope).
 */

/** What the client needs of a WebSocket (the browser's, Node 22's global one, or `ws`). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** The RoomChannel identifier: a contact session's pubsub_token, or an agent's with user_id and account_id. */
export type RoomIdentifier =
  | { channel: 'RoomChannel'; pubsub_token: string }
  | { channel: 'RoomChannel'; pubsub_token: string; user_id: number; account_id: number };

export type CableDisconnect = { reason: string; reconnect: boolean };

export type CableOptions = {
  /** The WebSocket implementation; the global one by default. */
  WebSocket?: WebSocketConstructor;
  /** How long connect() and subscribe() wait (ms). */
  timeoutMs?: number;
};

const PROTOCOLS = ['actioncable-v1-json', 'actioncable-unsupported'];

type Frame =
  | { type: 'welcome' }
  | { type: 'ping'; message: number }
  | { type: 'confirm_subscription' | 'reject_subscription'; identifier: string }
  | { type: 'disconnect'; reason: string; reconnect: boolean }
  | { type?: undefined; identifier: string; message: CableEnvelope };

type Handler = (data: never, envelope: CableEnvelope) => void;

/** One subscription: typed events, in order. */
export class CableSubscription {
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly received: CableEnvelope[] = [];

  constructor(
    readonly identifier: string,
    private readonly cable: CableClient,
  ) {}

  /** Calls `handler` with every `event` message from now on; returns the function that stops it. */
  on<E extends CableEventName>(event: E, handler: (data: CableEventMap[E], envelope: CableEnvelope) => void): () => void {
    const set = this.handlers.get(event) ?? new Set<Handler>();
    this.handlers.set(event, set);
    set.add(handler as Handler);
    return () => set.delete(handler as Handler);
  }

  /** The first `event` message (already received or coming) whose data matches `pred`. */
  next<E extends CableEventName>(event: E, pred: (data: CableEventMap[E]) => boolean = () => true, timeoutMs = 15_000): Promise<CableEventMap[E]> {
    const seen = this.received.find((m) => m.event === event && pred(m.data as CableEventMap[E]));
    if (seen) return Promise.resolve(seen.data as CableEventMap[E]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no ${event} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on(event, (data) => {
        if (!pred(data)) return;
        clearTimeout(timer);
        off();
        resolve(data);
      });
    });
  }

  /** Sends a RoomChannel action (`update_presence`, `viewing`, …) with its data. */
  perform(action: string, data: Record<string, unknown> = {}) {
    this.cable.send({ command: 'message', identifier: this.identifier, data: JSON.stringify({ ...data, action }) });
  }

  unsubscribe() {
    this.cable.send({ command: 'unsubscribe', identifier: this.identifier });
    this.cable.forget(this.identifier);
  }

  /** @internal */
  deliver(envelope: CableEnvelope) {
    this.received.push(envelope);
    if (this.received.length > 1000) this.received.shift();
    for (const h of [...(this.handlers.get(envelope.event) ?? [])]) h(envelope.data as never, envelope);
  }
}

export class CableClient {
  private ws: WebSocketLike | null = null;
  private readonly subs = new Map<string, CableSubscription>();
  private readonly pending = new Map<string, { resolve: (s: CableSubscription) => void; reject: (e: Error) => void }>();
  private readonly closeHandlers = new Set<(d: CableDisconnect | null) => void>();
  /** Unix seconds of the server's last ping. */
  lastPingAt: number | null = null;

  constructor(
    /** ws(s)://host/cable */
    readonly url: string,
    private readonly opts: CableOptions = {},
  ) {}

  /** Opens the socket; resolves on the server's welcome. */
  connect(): Promise<void> {
    const Ctor = this.opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) return Promise.reject(new Error('no WebSocket: pass one in the options (e.g. `ws` on Node 20)'));
    const ws = new Ctor(this.url, PROTOCOLS);
    this.ws = ws;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no welcome from /cable')), this.opts.timeoutMs ?? 15_000);
      let disconnect: CableDisconnect | null = null;
      ws.addEventListener('message', (ev) => {
        const frame = parse(ev.data);
        if (!frame) return;
        if (frame.type === 'welcome') {
          clearTimeout(timer);
          resolve();
        } else if (frame.type === 'disconnect') disconnect = { reason: frame.reason, reconnect: frame.reconnect };
        else this.handle(frame);
      });
      ws.addEventListener('close', () => {
        clearTimeout(timer);
        reject(new Error('/cable closed before its welcome'));
        for (const p of this.pending.values()) p.reject(new Error('/cable closed'));
        this.pending.clear();
        for (const h of this.closeHandlers) h(disconnect);
      });
    });
  }

  /** Subscribes to RoomChannel; resolves on confirm_subscription, rejects on reject_subscription. */
  subscribe(params: RoomIdentifier): Promise<CableSubscription> {
    const identifier = JSON.stringify(params);
    const existing = this.subs.get(identifier);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('no answer to subscribe')), this.opts.timeoutMs ?? 15_000);
      const fail = (e: Error) => {
        clearTimeout(timer);
        this.pending.delete(identifier);
        reject(e);
      };
      this.pending.set(identifier, {
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
        reject: fail,
      });
      this.send({ command: 'subscribe', identifier });
    });
  }

  /** Called when the socket closes, with the server's disconnect reason if it sent one. */
  onClose(handler: (d: CableDisconnect | null) => void): () => void {
    this.closeHandlers.add(handler);
    return () => this.closeHandlers.delete(handler);
  }

  close() {
    this.ws?.close();
  }

  /** Whether the socket is open (welcome may still be pending). */
  get open() {
    return this.ws?.readyState === 1;
  }

  /** @internal */
  send(command: { command: 'subscribe' | 'unsubscribe'; identifier: string } | { command: 'message'; identifier: string; data: string }) {
    if (!this.ws || this.ws.readyState !== 1) throw new Error('/cable is not open: await connect() first');
    this.ws.send(JSON.stringify(command));
  }

  /** @internal */
  forget(identifier: string) {
    this.subs.delete(identifier);
  }

  private handle(frame: Exclude<Frame, { type: 'welcome' | 'disconnect' }>) {
    if (frame.type === 'ping') this.lastPingAt = frame.message;
    else if (frame.type === 'confirm_subscription') {
      const sub = new CableSubscription(frame.identifier, this);
      this.subs.set(frame.identifier, sub);
      this.pending.get(frame.identifier)?.resolve(sub);
      this.pending.delete(frame.identifier);
    } else if (frame.type === 'reject_subscription') {
      this.pending.get(frame.identifier)?.reject(new Error('subscription rejected'));
    } else if (frame.type === undefined) this.subs.get(frame.identifier)?.deliver(frame.message);
  }
}

function parse(data: unknown): Frame | null {
  if (typeof data !== 'string') return null;
  try {
    const v = JSON.parse(data) as Frame;
    return v && typeof v === 'object' ? v : null;
  } catch {
    return null;
  }
}
