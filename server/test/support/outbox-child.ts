/**
 * A stand-alone outbox consumer for the crash-resume test (test/conversations/outbox.test.ts), run
 * as its own process: `node --import tsx test/support/outbox-child.ts`.
 *
 * env: OUTBOX_DB_URL (the test server's DATABASE_URL), OUTBOX_LISTENER (cursor name),
 *      OUTBOX_MODE = "block" (print `received <id>` then hang inside the handler's transaction,
 *      waiting to be killed) | "work" (write one row per event into outbox_test_effects in the
 *      handler's transaction, then print `handled <id>`).
 * stdout lines: `ready`, `received <id>`, `handled <id>`.
 */
import { openDatabase } from '../../src/kernel/db.js';
import { Dispatcher } from '../../src/kernel/events/outbox.js';

const url = process.env.OUTBOX_DB_URL!;
const name = process.env.OUTBOX_LISTENER!;
const mode = process.env.OUTBOX_MODE ?? 'work';

const database = openDatabase(url);
const log = {
  error: (obj: unknown, msg?: string) => process.stderr.write(`error ${msg ?? ''} ${String((obj as { err?: Error })?.err ?? obj)}\n`),
  info: () => {},
};
const dispatcher = new Dispatcher(database, log, {
  pollMs: 50,
  databaseUrl: database.dialect === 'postgres' ? url : undefined,
});

dispatcher.register({
  name,
  async handle(events, trx) {
    for (const e of events) {
      process.stdout.write(`received ${e.id}\n`);
      if (mode === 'block') await new Promise(() => {}); // hang with the transaction open until killed
      await trx
        .insertInto('outbox_test_effects' as any)
        .values({ event_id: e.id, listener: name, pid: process.pid } as any)
        .execute();
    }
  },
  afterCommit(events) {
    for (const e of events) process.stdout.write(`handled ${e.id}\n`);
  },
});

await dispatcher.start();
// The dispatcher's poll timer is unref'd: keep this process alive until it is stopped or killed.
const keepAlive = setInterval(() => {}, 1 << 30);
process.stdout.write('ready\n');

process.on('SIGTERM', () => {
  clearInterval(keepAlive);
  void dispatcher
    .stop()
    .then(() => database.close())
    .finally(() => process.exit(0));
});
