import { WebSocket, type RawData } from 'ws';
import { Conn } from './connection.js';
import { WELCOME, disconnectFrame, pingFrame, type DisconnectReason } from './protocol.js';

export type HubLimits = {
  maxConnectionsPerIp: number;
  maxBufferedBytes: number;
  authTimeoutMs: number;
};

type Log = { debug(obj: unknown, msg?: string): void; warn(obj: unknown, msg?: string): void; error(obj: unknown, msg?: string): void };

/** What the hub hands each text frame to, and tells when a socket goes away. */
export interface CommandSink {
  handle(conn: Conn, raw: string): void;
  closed(conn: Conn): void;
}

const PING_MS = 3000;
/**
 * Pings are spread over the interval: every PING_MS / PING_SLOTS one slot of sockets is pinged, so
 * each socket still gets a ping every 3 s but 10 000 sockets never cost one long stall (which would
 * delay every event arriving meanwhile).
 */
const PING_SLOTS = 30;
/** How long a rotation is remembered to catch subscriptions whose lookup raced it (far longer than a lookup). */
const REVOKED_TTL_MS = 5 * 60_000;
const kConn = Symbol('channelx.cable.conn');
type Tagged = WebSocket & { [kConn]?: Conn };

/**
 * Every /cable socket of this node: accepts sockets (per-IP cap), sends the welcome, runs the two
 * shared timers (pings, every socket every 3 s spread over the interval; the authentication
 * deadline sweep), applies backpressure (a socket whose bufferedAmount passes the limit is
 * terminated) and closes everything with `server_restart` on shutdown. Socket event handlers are
 * shared functions, not per-socket closures.
 */
export class Hub {
  private conns = new Set<Conn>();
  private slots: Set<Conn>[] = Array.from({ length: PING_SLOTS }, () => new Set());
  private nextSlot = 0;
  private tickCount = 0;
  private unauthed = new Set<Conn>();
  private perIp = new Map<string, number>();
  private pingTimer: NodeJS.Timeout | null = null;
  private authTimer: NodeJS.Timeout | null = null;
  private closing = false;
  /** Per user: the credentials_version of their last rotation seen here, and when (see disconnectUser). */
  private revoked = new Map<number, { version: number; at: number }>();
  private sink: CommandSink | null = null;
  private readonly onMessage: (this: Tagged, data: RawData, isBinary: boolean) => void;
  private readonly onClose: (this: Tagged) => void;
  /** Extra work on the ping tick (presence pruning). */
  onTick: (() => void) | null = null;

  constructor(
    private readonly limits: HubLimits,
    private readonly log: Log,
  ) {
    const hub = this;
    this.onMessage = function (data, isBinary) {
      const conn = this[kConn];
      if (!conn || conn.closed || isBinary) return; // the JSON protocol has no binary frames: ignored
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
      try {
        hub.sink?.handle(conn, text);
      } catch (err) {
        // A frame must never take the process down: log it and drop this socket.
        hub.log.error({ err }, 'cable: frame handling failed');
        hub.disconnect(conn, 'invalid_request', false, 1011);
      }
    };
    this.onClose = function () {
      const conn = this[kConn];
      if (conn) hub.forget(conn);
    };
  }

  setSink(sink: CommandSink) {
    this.sink = sink;
  }

  get size() {
    return this.conns.size;
  }

  /** False when this IP already holds its maximum of sockets (checked before the upgrade). */
  admits(ip: string): boolean {
    return !this.closing && (this.perIp.get(ip) ?? 0) < this.limits.maxConnectionsPerIp;
  }

  get isClosing() {
    return this.closing;
  }

  accept(ws: WebSocket, ip: string) {
    // @fastify/websocket's per-socket error listener holds the request and reply; one shared no-op
    // listener replaces it (ws closes the socket itself after an error, e.g. 1009 for a frame too big).
    ws.removeAllListeners('error');
    ws.on('error', onError);
    if (this.closing) return this.refuse(ws, 'server_restart', true, 1012);
    const count = (this.perIp.get(ip) ?? 0) + 1;
    if (count > this.limits.maxConnectionsPerIp) return this.refuse(ws, 'too_many_connections', false, 1013);
    this.perIp.set(ip, count);
    const conn = new Conn(ws, ip, Date.now(), this.nextSlot);
    this.nextSlot = (this.nextSlot + 1) % PING_SLOTS;
    (ws as Tagged)[kConn] = conn;
    this.conns.add(conn);
    this.slots[conn.slot].add(conn);
    this.unauthed.add(conn);
    ws.on('message', this.onMessage);
    ws.on('close', this.onClose);
    this.send(conn, WELCOME);
  }

  /** Sends one text frame; terminates the socket when its send buffer passes the limit. */
  send(conn: Conn, frame: string | Buffer): boolean {
    const ws = conn.ws;
    if (conn.closed || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(frame, { binary: false });
    if (ws.bufferedAmount > this.limits.maxBufferedBytes) {
      this.log.warn({ ip: conn.ip, buffered: ws.bufferedAmount }, 'cable: slow consumer disconnected');
      ws.terminate();
      this.forget(conn);
      return false;
    }
    return true;
  }

  /** `{"type":"disconnect"}` then a close handshake. */
  disconnect(conn: Conn, reason: DisconnectReason, reconnect: boolean, code = 1000) {
    this.send(conn, disconnectFrame(reason, reconnect));
    conn.ws.close(code);
    this.forget(conn);
  }

  /**
   * The first confirmed subscription ends the authentication deadline. A subscription authorized
   * with a token that was rotated meanwhile (its lookup raced the rotation) is disconnected here.
   */
  authenticated(conn: Conn) {
    if (this.holdsRevokedToken(conn)) return this.disconnect(conn, 'unauthorized', false, 1008);
    conn.authed = true;
    this.unauthed.delete(conn);
  }

  /**
   * The user's credentials were rotated to `version`: every socket of this node holding a
   * subscription of that user authorized with an older version gets `unauthorized` (no reconnect)
   * and is closed. Subscriptions made with the new token stay. Returns how many sockets were closed.
   */
  disconnectUser(userId: number, version: number): number {
    const seen = this.revoked.get(userId);
    if (!seen || seen.version < version) this.revoked.set(userId, { version, at: Date.now() });
    let closed = 0;
    for (const conn of [...this.conns]) {
      if (!this.holdsRevokedToken(conn)) continue;
      this.disconnect(conn, 'unauthorized', false, 1008);
      closed++;
    }
    return closed;
  }

  private holdsRevokedToken(conn: Conn): boolean {
    if (!this.revoked.size) return false;
    for (const sub of conn.subs) {
      if (sub.grant.kind !== 'user') continue;
      const seen = this.revoked.get(sub.grant.key);
      if (seen && (sub.grant.version ?? 0) < seen.version) return true;
    }
    return false;
  }

  start() {
    if (this.pingTimer) return;
    this.closing = false;
    this.pingTimer = setInterval(() => this.tick(), PING_MS / PING_SLOTS);
    this.pingTimer.unref();
    const sweepMs = Math.min(1000, Math.max(25, Math.floor(this.limits.authTimeoutMs / 4)));
    this.authTimer = setInterval(() => this.sweepUnauthenticated(), sweepMs);
    this.authTimer.unref();
  }

  /** Tells every client to reconnect elsewhere (`server_restart`, reconnect: true) and closes the sockets. */
  async stop(graceMs = 1000) {
    this.closing = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.authTimer) clearInterval(this.authTimer);
    this.pingTimer = this.authTimer = null;
    const sockets = [...this.conns].map((c) => c.ws);
    for (const conn of [...this.conns]) this.disconnect(conn, 'server_restart', true, 1012);
    const deadline = Date.now() + graceMs;
    while (sockets.some((ws) => ws.readyState !== WebSocket.CLOSED) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const ws of sockets) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  }

  private tick() {
    const slot = this.slots[this.tickCount++ % PING_SLOTS];
    if (slot.size) {
      const frame = Buffer.from(pingFrame(Math.floor(Date.now() / 1000)));
      for (const conn of slot) this.send(conn, frame);
    }
    if (this.tickCount % PING_SLOTS === 0) {
      this.onTick?.();
      this.pruneRevoked();
    }
  }

  /** Rotations are remembered only as long as a subscription lookup could still race them. */
  private pruneRevoked(at = Date.now()) {
    for (const [userId, r] of this.revoked) if (r.at < at - REVOKED_TTL_MS) this.revoked.delete(userId);
  }

  private sweepUnauthenticated() {
    if (!this.unauthed.size) return;
    const cutoff = Date.now() - this.limits.authTimeoutMs;
    for (const conn of this.unauthed) {
      if (conn.openedAt <= cutoff) this.disconnect(conn, 'unauthorized', false, 1008);
    }
  }

  private refuse(ws: WebSocket, reason: DisconnectReason, reconnect: boolean, code: number) {
    ws.send(disconnectFrame(reason, reconnect));
    ws.close(code);
  }

  /** Removes the socket from every index (idempotent: close events and our own closes both land here). */
  private forget(conn: Conn) {
    if (conn.closed) return;
    conn.closed = true;
    this.conns.delete(conn);
    this.slots[conn.slot].delete(conn);
    this.unauthed.delete(conn);
    const n = (this.perIp.get(conn.ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(conn.ip);
    else this.perIp.set(conn.ip, n);
    this.sink?.closed(conn);
  }
}

function onError(this: WebSocket) {
  /* ws closes the socket after emitting an error; the 'close' handler cleans up */
}
