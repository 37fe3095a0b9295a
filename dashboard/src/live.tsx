import { createContext, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { CableClient, type CableEnvelope, type CableEventMap, type CableEventName, type CableSubscription } from '@channelx/client';
import { useSession } from './session.js';
import { api, isStatus, unwrap } from './api.js';

/**
 * The live connection to /cable: one socket per tab, subscribed to the agent's RoomChannel stream,
 * reconnected with backoff when it drops. Pages listen with `useLiveEvent`, and refetch what they show
 * with `useReconnected` — every event missed while the socket was down is recovered by that refetch.
 */
export type LiveStatus = 'connecting' | 'connected' | 'reconnecting';

type Handler = (data: never, envelope: CableEnvelope) => void;

export type Live = {
  status: LiveStatus;
  /** Counts successful (re)connections: 1 after the first, +1 after every reconnect. */
  generation: number;
  on<E extends CableEventName>(event: E, handler: (data: CableEventMap[E], envelope: CableEnvelope) => void): () => void;
  /** Sends a RoomChannel action; dropped silently while disconnected. */
  perform(action: string, data?: Record<string, unknown>): void;
};

const LiveContext = createContext<Live | null>(null);

const PRESENCE_INTERVAL_MS = 20_000;
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];

export function LiveProvider({ children }: { children: React.ReactNode }) {
  const { profile, accountId, setProfile } = useSession();
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const [generation, setGeneration] = useState(0);
  const handlers = useRef(new Map<string, Set<Handler>>());
  const sub = useRef<CableSubscription | null>(null);

  useEffect(() => {
    let stopped = false;
    let attempt = 0;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let presenceTimer: ReturnType<typeof setInterval> | undefined;
    let cable: CableClient | null = null;
    const url = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/cable`;

    const retry = () => {
      if (stopped) return;
      sub.current = null;
      clearInterval(presenceTimer);
      setStatus((s) => (s === 'connecting' ? 'connecting' : 'reconnecting'));
      const delay = BACKOFF_MS[Math.min(attempt++, BACKOFF_MS.length - 1)]!;
      retryTimer = setTimeout(connect, delay * (0.8 + Math.random() * 0.4));
    };

    async function connect() {
      if (stopped) return;
      const c = new CableClient(url, { timeoutMs: 10_000 });
      cable = c;
      let closed = false;
      c.onClose((d) => {
        if (closed) return;
        closed = true;
        if (cable !== c) return;
        // Refused for its credentials (rotated token, removed membership): find out why before retrying.
        if (d && !d.reconnect) void recheck();
        else retry();
      });
      try {
        await c.connect();
        const s = await c.subscribe({ channel: 'RoomChannel', pubsub_token: profile.pubsub_token, user_id: profile.id, account_id: accountId });
        if (stopped || closed) return;
        for (const [event, set] of handlers.current) s.on(event as CableEventName, (data, env) => set.forEach((h) => h(data as never, env)));
        sub.current = s;
        attempt = 0;
        setStatus('connected');
        setGeneration((g) => g + 1);
        s.perform('update_presence');
        presenceTimer = setInterval(() => sub.current?.perform('update_presence'), PRESENCE_INTERVAL_MS);
      } catch (err) {
        if (!closed) {
          closed = true;
          c.close();
          if (err instanceof Error && /rejected/.test(err.message)) void recheck();
          else retry();
        }
      }
    }

    /** The profile again: a new pubsub_token restarts this effect; a 401 means the session ended. */
    async function recheck() {
      try {
        const fresh = await unwrap(api.GET('/api/v1/profile'));
        if (stopped) return;
        if (fresh.pubsub_token !== profile.pubsub_token || fresh.account_id !== profile.account_id) return setProfile(fresh);
      } catch (err) {
        if (isStatus(err, 401)) return window.location.reload();
      }
      retry();
    }

    void connect();
    return () => {
      stopped = true;
      clearTimeout(retryTimer);
      clearInterval(presenceTimer);
      sub.current = null;
      cable?.close();
    };
  }, [profile.pubsub_token, profile.id, accountId, setProfile]);

  const live = useRef<Omit<Live, 'status' | 'generation'>>({
    on(event, handler) {
      let set = handlers.current.get(event);
      if (!set) {
        set = new Set();
        handlers.current.set(event, set);
        // A subscription made before this event had handlers gets its dispatcher now.
        const s = sub.current;
        const target = set;
        s?.on(event, (data, env) => target.forEach((h) => h(data as never, env)));
      }
      set.add(handler as Handler);
      return () => void set.delete(handler as Handler);
    },
    perform(action, data) {
      try {
        sub.current?.perform(action, data);
      } catch {
        /* socket closing: the reconnect refetch covers it */
      }
    },
  }).current;

  const value = useMemo(() => ({ ...live, status, generation }), [live, status, generation]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useLive(): Live {
  const l = useContext(LiveContext);
  if (!l) throw new Error('useLive outside LiveProvider');
  return l;
}

/** Calls the latest `handler` for every `event` from /cable while the component is mounted. */
export function useLiveEvent<E extends CableEventName>(event: E, handler: (data: CableEventMap[E]) => void) {
  const live = useLive();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => live.on(event, (data) => ref.current(data)), [live.on, event]);
}

/**
 * Calls `refetch` whenever the socket (re)subscribes after the component mounted: after every
 * reconnect, and after the first connect when the component's data was fetched before the socket
 * was live. Either way, what happened while events could not arrive is fetched again.
 */
export function useReconnected(refetch: () => void) {
  const { generation } = useLive();
  const ref = useRef(refetch);
  ref.current = refetch;
  const atMount = useRef(generation);
  useEffect(() => {
    if (generation > atMount.current) ref.current();
  }, [generation]);
}

/** The banner shown while the socket is down. */
export function ConnectionBanner() {
  const { status } = useLive();
  const [visible, setVisible] = useState(false);
  // The first connect is quiet for a moment; a drop shows at once.
  useEffect(() => {
    if (status === 'connected') return setVisible(false);
    if (status === 'reconnecting') return setVisible(true);
    const t = setTimeout(() => setVisible(true), 3000);
    return () => clearTimeout(t);
  }, [status]);
  if (!visible) return null;
  return (
    <div className="connection-banner" role="status" data-testid="connection-banner">
      {status === 'reconnecting' ? 'Connection lost — reconnecting… Updates will be fetched again once back.' : 'Connecting to live updates…'}
    </div>
  );
}
