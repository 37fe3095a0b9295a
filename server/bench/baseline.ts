/** The bench baseline: a bare Fastify route doing one SQLite insert per request (DESIGN §7). */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import Fastify from 'fastify';
import SQLite from 'better-sqlite3';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-baseline-'));
const db = new SQLite(path.join(dir, 'baseline.sqlite'));
db.pragma('journal_mode = WAL');
// Same durability setting as the ChannelX run it is compared with.
db.pragma(`synchronous = ${process.argv[3] === 'full' ? 'FULL' : 'NORMAL'}`);
db.exec('create table messages (id integer primary key autoincrement, content text, created_at integer)');
const insert = db.prepare('insert into messages (content, created_at) values (?, ?)');

const app = Fastify();
app.post('/messages', async (req) => {
  const body = req.body as { content?: string };
  const info = insert.run(body?.content ?? '', Date.now());
  return { id: Number(info.lastInsertRowid), content: body?.content ?? '' };
});
app.listen({ port: Number(process.argv[2] ?? 0), host: '127.0.0.1' }).then((addr) => {
  process.send?.({ ready: addr });
});
process.on('SIGTERM', () => {
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
