import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from '../config.js';
import { openDatabase } from '../kernel/db.js';
import { migrate } from '../kernel/migrate.js';
import { AppError } from '../kernel/errors.js';
import { setupAccount } from '../accounts/setup.js';

const USAGE = `Usage: npm run --silent channelx -- <command> [options]

Commands:
  migrate                         apply pending database migrations
  setup --account <name> --name <name> --email <email> --password <pw> [--json]
                                  create an account and its first administrator (idempotent per email)

Every command reads DATABASE_URL (default sqlite:./data/channelx.sqlite) and may run while the server runs.`;

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const config = loadConfig();
  const database = openDatabase(config.databaseUrl, { sqliteSynchronous: config.sqliteSynchronous });
  try {
    if (command === 'migrate') {
      const applied = await migrate(database);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      return 0;
    }
    if (command === 'setup') {
      const { values } = parseArgs({
        args: rest,
        options: {
          account: { type: 'string' },
          name: { type: 'string' },
          email: { type: 'string' },
          password: { type: 'string' },
          json: { type: 'boolean', default: false },
        },
        strict: true,
      });
      await migrate(database);
      const result = await setupAccount(database, {
        account: values.account ?? '',
        name: values.name ?? '',
        email: values.email ?? '',
        password: values.password ?? '',
      });
      const { created, ...out } = result;
      if (values.json) console.log(JSON.stringify(out));
      else {
        console.log(`${created ? 'Created' : 'Found'} administrator ${values.email} (user ${out.user_id}) in account ${out.account_id}`);
        console.log(`API access token: ${out.access_token}`);
      }
      return 0;
    }
    console.error(`Unknown command: ${command}\n\n${USAGE}`);
    return 2;
  } finally {
    await database.close();
  }
}

run(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((err) => {
    if (err instanceof AppError || err instanceof ConfigError) {
      console.error(`error: ${err.message}`);
      process.exit(err instanceof ConfigError ? 2 : 1);
    }
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`error: ${(err as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  });
