import type { Executor } from '../kernel/db.js';
import type { AnyOutboxEvent } from '../kernel/events/types.js';
import { activeWebhooksOf, conversationInboxes, inboxCallbacks, type ActiveWebhook } from './repository.js';

/** Entries are loaded again after this long: a bound on edits made around the API (direct SQL). */
const TTL_MS = 5_000;
/** Conversations whose inbox is remembered (a conversation never changes inbox; ids are never reused). */
const MAX_CONVERSATIONS = 20_000;

type Timed<T> = { value: T; at: number };

/**
 * What the webhook listener knows about endpoints without asking the database: the inbox of each
 * conversation, whether an inbox has a callback URL, the enabled webhooks of an account. Loaded
 * lazily for a whole batch at once (one query per kind of missing entry) and invalidated **in
 * outbox order** by the events that change them — `inbox.created` / `inbox.updated` (the callback
 * URL is an inbox setting) and `webhook.changed` (account webhooks: created, updated, deleted,
 * disabled by a 410) — so an event committed after a change is always routed with it.
 *
 * Valid only while this node handled every event since the entries were loaded: the listener
 * clears it when its cursor was moved by anyone else (another PostgreSQL node holding the cursor,
 * a dead event skipped, a batch that rolled back), and the TTL bounds what changes around the API.
 */
export class EndpointDirectory {
  private conversations = new Map<number, { accountId: number; inboxId: number }>();
  private callbacks = new Map<number, Timed<{ accountId: number; url: boolean }>>();
  private webhooks = new Map<number, Timed<ActiveWebhook[]>>();

  constructor(
    private readonly ttlMs = TTL_MS,
    private readonly maxConversations = MAX_CONVERSATIONS,
  ) {}

  clear() {
    this.conversations.clear();
    this.callbacks.clear();
    this.webhooks.clear();
  }

  /** Forgets what the batch's events changed (before the batch is routed). */
  observe(e: AnyOutboxEvent) {
    switch (e.name) {
      case 'inbox.created':
      case 'inbox.updated':
        this.callbacks.delete(e.payload.inbox_id);
        break;
      case 'webhook.changed':
        this.webhooks.delete(e.accountId);
        break;
      case 'conversation.deleted':
        this.conversations.delete(e.payload.conversation_id);
        break;
    }
  }

  /** Loads what `inboxOf`, `hasCallback` and `webhooksOf` will be asked about and is missing or old. */
  async load(db: Executor, need: { conversations: Iterable<number>; inboxes: Iterable<number>; accounts: Iterable<number> }) {
    const t = Date.now();
    const fresh = (x: Timed<unknown> | undefined) => !!x && t - x.at < this.ttlMs;
    const convIds = [...new Set(need.conversations)].filter((id) => !this.conversations.has(id));
    for (const r of await conversationInboxes(db, convIds)) this.remember(r.id, r.account_id, r.inbox_id);
    const inboxIds = new Set([...need.inboxes].filter((id) => !fresh(this.callbacks.get(id))));
    for (const id of convIds) {
      const c = this.conversations.get(id);
      if (c && !fresh(this.callbacks.get(c.inboxId))) inboxIds.add(c.inboxId);
    }
    // An inbox not found (deleted) is remembered as one without a callback.
    for (const id of inboxIds) this.callbacks.set(id, { value: { accountId: 0, url: false }, at: t });
    for (const r of await inboxCallbacks(db, [...inboxIds])) this.callbacks.set(r.id, { value: { accountId: r.account_id, url: !!r.webhook_url }, at: t });
    const accounts = [...new Set(need.accounts)].filter((id) => !fresh(this.webhooks.get(id)));
    for (const [id, list] of await activeWebhooksOf(db, accounts)) this.webhooks.set(id, { value: list, at: t });
  }

  /** The inbox of a conversation of the account (null: no such conversation). Call `load` first. */
  inboxOf(accountId: number, conversationId: number): number | null {
    const c = this.conversations.get(conversationId);
    return c && c.accountId === accountId ? c.inboxId : null;
  }

  /** Whether the inbox of the account has a callback URL. Call `load` first. */
  hasCallback(accountId: number, inboxId: number): boolean {
    const c = this.callbacks.get(inboxId)?.value;
    return !!c && c.accountId === accountId && c.url;
  }

  /** The enabled webhooks of the account. Call `load` first. */
  webhooksOf(accountId: number): ActiveWebhook[] {
    return this.webhooks.get(accountId)?.value ?? [];
  }

  private remember(conversationId: number, accountId: number, inboxId: number) {
    if (this.conversations.size >= this.maxConversations) {
      // Oldest first: Map keeps insertion order.
      const drop = this.conversations.keys().next().value;
      if (drop !== undefined) this.conversations.delete(drop);
    }
    this.conversations.set(conversationId, { accountId, inboxId });
  }
}
