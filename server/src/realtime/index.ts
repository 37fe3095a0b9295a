import type { AppContext } from '../context.js';
import type { Worker } from '../workers.js';
import { Hub } from './hub.js';
import { Rooms, type Targets } from './rooms.js';
import { Commands } from './commands.js';
import { Presence } from './presence.js';
import { MemoryPubSub, RedisPubSub, type PubSub } from './pubsub.js';
import { realtimeListener } from './listener.js';

/**
 * The real-time module of one node: sockets (hub), subscriptions per account (rooms), pub/sub
 * (in process, or Redis with REDIS_URL), presence, and the outbox listener that publishes events.
 */
export class Realtime {
  readonly pubsub: PubSub;
  readonly presence: Presence;
  readonly hub: Hub;
  readonly rooms: Rooms;
  private redis: RedisPubSub | null = null;
  private started = false;
  private stopped = false;
  private socketsClosed: Promise<void> | null = null;

  constructor(ctx: Pick<AppContext, 'config' | 'log' | 'database'>) {
    const { cable, redisUrl } = ctx.config;
    const log = ctx.log.child({ module: 'cable' });
    if (redisUrl) this.redis = new RedisPubSub(redisUrl, log);
    this.pubsub = this.redis ?? new MemoryPubSub();
    this.presence = new Presence(
      { user: cable.userPresenceS * 1000, contact: cable.contactPresenceS * 1000 },
      this.redis ? { client: this.redis.publisher, prefix: cable.redisPrefix } : null,
    );
    this.hub = new Hub(cable, log);
    this.rooms = new Rooms(this.pubsub, cable.redisPrefix, (conn, frame) => this.hub.send(conn, frame), log);
    this.hub.setSink(new Commands(ctx.database.db, this.hub, this.rooms, this.presence, log));
    this.hub.onTick = () => this.presence.prune();
    this.rooms.onRevoke = (userId, version) => this.hub.disconnectUser(userId, version);
  }

  /** Publishes one event to the given recipients on every node. */
  publish(accountId: number, targets: Targets, event: string, data: unknown): Promise<void> {
    return this.rooms.publish(accountId, targets, event, data);
  }

  async start() {
    if (this.started || this.stopped) return;
    this.started = true;
    await this.redis?.connect();
    this.hub.start();
  }

  /**
   * Shutdown, first step: every socket gets `server_restart` (reconnect: true) and is closed, and new
   * ones are refused. The frames are sent before this returns, so the HTTP listener can close next;
   * pub/sub stays up while the outbox drains. Idempotent.
   */
  closeSockets(): Promise<void> {
    return (this.socketsClosed ??= this.hub.stop());
  }

  /** Closes the sockets (if not done yet), then the pub/sub connections. Idempotent. */
  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    await this.closeSockets();
    await this.pubsub.close();
  }
}

/** The worker of src/workers.ts: registers the outbox listener, starts and stops the context's Realtime (created in src/server.ts). */
export function realtimeWorker(ctx: AppContext): Worker {
  const rt = ctx.realtime;
  ctx.dispatcher.register({ ...realtimeListener(ctx, rt), durable: false });
  return { name: 'realtime', start: () => rt.start(), stop: () => rt.stop() };
}
