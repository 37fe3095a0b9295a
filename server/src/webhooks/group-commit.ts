import type { Logger } from 'pino';
import type { Database } from '../kernel/db.js';
import { writeOutcomes, type Outcome } from './delivery-repository.js';

/**
 * Writes attempt outcomes in group commits: the outcomes of one event-loop turn (and those that
 * finish while a group is being written) go in one transaction (one fsync) instead of one each.
 * No timer: a wave of responses handled in one turn is one group, and nothing waits past its
 * turn. (`lingerMs` > 0 waits that long instead.)
 */
export class OutcomeWriter {
  private outcomes: { outcome: Outcome; done: () => void }[] = [];
  private flushing: Promise<void> | null = null;
  private closing = false;

  constructor(
    private readonly database: Database,
    private readonly log: Logger,
    private readonly lingerMs = 0,
  ) {}

  get queued() {
    return this.outcomes.length;
  }

  /** Queues an outcome for the next group commit; resolves once it is written (or the write failed and was logged). */
  record(outcome: Outcome): Promise<void> {
    return new Promise((done) => {
      this.outcomes.push({ outcome, done });
      if (this.flushing) return;
      const linger = this.outcomes.length >= 64 || this.closing ? 0 : this.lingerMs;
      this.flushing = new Promise<void>((r) => (linger > 0 ? setTimeout(r, linger) : setImmediate(r)))
        .then(() => this.flush())
        .finally(() => (this.flushing = null));
    });
  }

  /** No more lingering; resolves once what is queued is written. */
  async close() {
    this.closing = true;
    await this.flushing;
  }

  private async flush() {
    while (this.outcomes.length) {
      const batch = this.outcomes.splice(0, 256);
      try {
        await writeOutcomes(this.database, batch.map((b) => b.outcome));
      } catch (err) {
        // The rows stay leased; when the lease expires they are sent again (at least once).
        this.log.error({ err, count: batch.length }, 'writing webhook outcomes failed');
      }
      for (const b of batch) b.done();
    }
  }
}
