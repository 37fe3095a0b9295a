type Log = (obj: unknown, msg?: string) => void;

/** The NOTIFY channel that wakes the dispatchers of every node. */
export const OUTBOX_CHANNEL = 'channelx_outbox';

/** Listens for outbox notifications on a connection of its own and calls `wake` on each. */
export async function listenForEvents(url: string, wake: () => void, logError: Log): Promise<{ end(): Promise<void> }> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url });
  client.on('error', (err) => logError({ err }, 'outbox LISTEN connection failed; polling continues'));
  await client.connect();
  client.on('notification', () => wake());
  await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
  return client;
}
