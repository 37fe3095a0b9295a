import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { withTimeout } from '../realtime/cable.js';
import { onLines } from './server-process.js';

export type ChildNode = { proc: ChildProcess; url: string; output: string[] };

/** A second ChannelX node: a child `node --import tsx src/main.ts`, ready once it logs that it listens. */
export async function startChildNode(env: Record<string, string>): Promise<ChildNode> {
  const root = path.resolve(import.meta.dirname, '../..');
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const url = await withTimeout(
    new Promise<string>((resolve, reject) => {
      onLines(proc.stdout!, (line) => {
        output.push(line);
        try {
          const rec = JSON.parse(line);
          if (rec.msg === 'ChannelX listening') resolve(String(rec.address).replace('[::1]', '127.0.0.1'));
        } catch {
          /* not a log line */
        }
      });
      proc.stderr!.on('data', (d) => output.push(String(d)));
      proc.on('exit', (code) => reject(new Error(`node B exited with ${code}: ${output.join('\n')}`)));
    }),
    45_000,
    'node B did not start',
  );
  return { proc, url, output };
}
