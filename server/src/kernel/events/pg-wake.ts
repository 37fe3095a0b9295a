type Log = (obj: unknown, msg?: string) => void;

/** The NOTIFY channel that wakes the dispatchers of every node. */
export const OUTBOX_CHANNEL = 'channelx_outbox';

/**
 * PostgreSQL: wakes the dispatchers of the other nodes when this node committed events, and this
 * node's when another did. NOTIFY is sent here, on a connection of its own, after the writing
 * transactions committed — never inside them: a notifying transaction takes the notification
 * queue's lock at commit, which would serialise every writing transaction again. Sends coalesce:
 * at most one in flight and one queued, however many transactions committed meanwhile.
 */
export class PgWake {
  private sending = false;
  private queued = false;
  /** Set after a failed NOTIFY, so a lost connection is logged once, not once per commit. */
  private failing = false;
  private closed = false;

  private constructor(
    private readonly client: import('pg').Client,
    private readonly logError: Log,
  ) {}

  static async connect(url: string, wake: () => void, logError: Log): Promise<PgWake> {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: url });
    client.on('error', (err) => logError({ err }, 'outbox LISTEN connection failed; polling continues'));
    await client.connect();
    const self = (client as unknown as { processID?: number }).processID;
    client.on('notification', (n) => {
      if (n.processId !== self) wake(); // this node's own commits woke it already
    });
    await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    return new PgWake(client, logError);
  }

  /** Tells the other nodes that events were committed. */
  notify() {
    if (this.closed) return;
    if (this.sending) {
      this.queued = true;
      return;
    }
    this.sending = true;
    this.client
      .query(`NOTIFY ${OUTBOX_CHANNEL}`)
      .then(
        () => (this.failing = false),
        (err) => {
          if (!this.failing && !this.closed) this.logError({ err }, 'outbox NOTIFY failed; other nodes find the events by polling');
          this.failing = true;
        },
      )
      .finally(() => {
        this.sending = false;
        if (this.queued) {
          this.queued = false;
          this.notify();
        }
      });
  }

  async end() {
    this.closed = true;
    await this.client.end();
  }
}
