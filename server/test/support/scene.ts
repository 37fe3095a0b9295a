import { NO_RATE_LIMITS, startTestServer, type DialectName } from './harness.js';
import { startReceiver } from '../webhooks/support.js';

/**
 * The account many conversation tests start from: an administrator (Grace Hopper) and agents who
 * are members of an API inbox whose callback is a local receiver. `close` stops both.
 */
export async function agentScene(dialect: DialectName, agentNames: string[] = ['Ada Lovelace']) {
  const h = await startTestServer(dialect, NO_RATE_LIMITS);
  const rx = await startReceiver();
  const { accountId } = await h.account();
  const grace = await h.user(accountId, { name: 'Grace Hopper', role: 'administrator' });
  const agents = [];
  for (const name of agentNames) agents.push(await h.user(accountId, { name }));
  const inbox = await h.inbox(accountId, { webhook_url: rx.url, members: agents.map((a) => a.id) });
  const close = async () => {
    await rx.close();
    await h.close();
  };
  return { h, rx, accountId, grace, agents, inbox, close };
}
export type AgentScene = Awaited<ReturnType<typeof agentScene>>;
