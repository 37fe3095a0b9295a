import os from 'node:os';
import { loadConfig, ConfigError } from './config.js';
import { createServer } from './server.js';

const FORCE_EXIT_MARGIN_MS = 5_000;

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const server = await createServer(config);
  const address = await server.listen();
  server.ctx.log.info({ address, database: server.ctx.database.dialect }, 'ChannelX listening');

  // Past the grace, closing (sockets' close handshakes, the last outcome writes, the database) gets this long.
  const force = config.shutdownGraceMs + FORCE_EXIT_MARGIN_MS;
  let closing = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (closing) {
      // Asked twice: the operator will not wait. As safe as a crash: the outbox and the delivery leases lose
      // nothing; a send cut mid-way goes again (same delivery id) after the next start.
      server.ctx.log.warn({ signal }, 'shutdown: second signal, exiting at once');
      process.exit(128 + (os.constants.signals[signal] ?? 15));
    }
    closing = true;
    server.ctx.log.info({ signal }, 'shutting down');
    setTimeout(() => {
      server.ctx.log.error({ after_ms: force }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, force).unref();
    try {
      await server.close();
      process.exit(0);
    } catch (err) {
      server.ctx.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
