import { Redis } from 'ioredis';
import { TransientError } from '../kernel/events/outbox.js';

/**
 * The fan-out transport between the node that handles an outbox event and the nodes holding the
 * sockets. Three methods, so the client can be swapped. One handler per channel and node: the
 * rooms (rooms.ts) subscribe a channel per account while they hold a local subscription in it.
 */
export interface PubSub {
  publish(channel: string, message: string): Promise<void>;
  /** Resolves once messages published afterwards are delivered to `handler`. */
  subscribe(channel: string, handler: (message: string) => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /** Whether any node subscribes the channel right now (lets the listener skip work nobody receives). */
  hasSubscribers(channel: string): Promise<boolean>;
  close(): Promise<void>;
}

/** In-process pub/sub: the embedded default (one node). Delivery is synchronous. */
export class MemoryPubSub implements PubSub {
  private handlers = new Map<string, (message: string) => void>();

  async publish(channel: string, message: string) {
    this.handlers.get(channel)?.(message);
  }
  async subscribe(channel: string, handler: (message: string) => void) {
    this.handlers.set(channel, handler);
  }
  async unsubscribe(channel: string) {
    this.handlers.delete(channel);
  }
  async hasSubscribers(channel: string) {
    return this.handlers.has(channel);
  }
  async close() {
    this.handlers.clear();
  }
}

type Log = { error(obj: unknown, msg?: string): void; warn(obj: unknown, msg?: string): void };

/**
 * Redis pub/sub: one publisher and one subscriber connection per node. ioredis re-subscribes every
 * channel after a reconnect. The publisher connection also serves the presence commands.
 */
export class RedisPubSub implements PubSub {
  readonly publisher: Redis;
  private readonly subscriber: Redis;
  private handlers = new Map<string, (message: string) => void>();
  private closed = false;

  constructor(url: string, log: Log) {
    const opts = { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true } as const;
    // The publisher (and presence) fails fast while Redis is away: the outbox listener retries later,
    // presence falls back to this node's view. The subscriber queues (re)subscriptions until it is back.
    this.publisher = new Redis(url, {
      ...opts,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 2000,
      connectionName: 'channelx-cable-pub',
    });
    this.subscriber = new Redis(url, { ...opts, connectionName: 'channelx-cable-sub' });
    let warned = false;
    const onError = (err: Error) => {
      if (this.closed || warned) return;
      warned = true; // one line per outage, not one per retry
      log.warn({ err: err.message }, 'realtime redis connection error; retrying');
    };
    this.publisher.on('error', onError);
    this.subscriber.on('error', onError);
    this.subscriber.on('ready', () => (warned = false));
    this.subscriber.on('message', (channel: string, message: string) => {
      const handler = this.handlers.get(channel);
      if (!handler) return;
      try {
        handler(message);
      } catch (err) {
        log.error({ err, channel }, 'realtime delivery failed');
      }
    });
  }

  /** Redis away at boot is degraded service, not a failed start: ioredis keeps reconnecting (errors are logged above). */
  async connect() {
    await Promise.all([this.publisher, this.subscriber].map((r) => r.connect().catch(() => undefined)));
  }

  async publish(channel: string, message: string) {
    const receivers = await this.publisher.publish(channel, message);
    // This node holds the channel, yet nobody received it: our subscriber connection is away or
    // re-subscribing after a reconnect, and Redis does not keep messages. Fail, so it is sent again.
    if (receivers === 0 && this.handlers.has(channel)) throw new TransientError('realtime subscriber is not subscribed yet');
  }

  async subscribe(channel: string, handler: (message: string) => void) {
    this.handlers.set(channel, handler);
    await this.subscriber.subscribe(channel);
  }

  async unsubscribe(channel: string) {
    this.handlers.delete(channel);
    if (this.closed) return;
    await this.subscriber.unsubscribe(channel).catch(() => {});
  }

  async hasSubscribers(channel: string) {
    if (this.handlers.has(channel)) return true;
    const reply = (await this.publisher.call('PUBSUB', 'NUMSUB', channel)) as unknown[];
    return Number(reply?.[1] ?? 0) > 0;
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    const end = async (r: Redis) => {
      if (r.status === 'ready') await r.quit().catch(() => {});
      r.disconnect();
    };
    await Promise.all([end(this.publisher), end(this.subscriber)]);
  }
}
