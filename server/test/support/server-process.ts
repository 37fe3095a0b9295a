import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './wait.js';

/** Calls `fn` with each complete line a stream writes (a child's stdout). */
export function onLines(stream: NodeJS.ReadableStream, fn: (line: string) => void) {
  let buf = '';
  stream.on('data', (d) => {
    buf += String(d);
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      fn(line);
    }
  });
}

export type Exit = { code: number | null; signal: NodeJS.Signals | null };
export type LogRecord = { level?: number; msg?: string; [key: string]: any };

/** The real server (`node --import tsx src/main.ts`) as a child process, with its JSON log lines parsed. */
export type ServerProcess = {
  proc: ChildProcess;
  url: string;
  port: number;
  /** Every JSON log line so far. */
  logs: LogRecord[];
  /** Everything else it printed (stderr, non-JSON lines). */
  other: string[];
  exited: Promise<Exit>;
  /** Resolves with the first log record matching (already logged or still to come). */
  log(match: string | ((r: LogRecord) => boolean), timeoutMs?: number): Promise<LogRecord>;
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL if still running (test clean-up). */
  kill(): void;
};

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Starts the server on a free port (PORT=0) of 127.0.0.1; ready once it logs where it listens. */
export async function startServerProcess(env: Record<string, string>, startTimeoutMs = 45_000): Promise<ServerProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogRecord[] = [];
  const other: string[] = [];
  let exit: Exit | null = null;
  const exited = new Promise<Exit>((ok) => proc.on('exit', (code, signal) => ok((exit = { code, signal }))));
  onLines(proc.stdout!, (line) => {
    try {
      logs.push(JSON.parse(line));
    } catch {
      other.push(line);
    }
  });
  proc.stderr!.on('data', (d) => other.push(String(d)));

  const find = (match: string | ((r: LogRecord) => boolean)) => logs.find(typeof match === 'string' ? (r) => r.msg === match : match);
  const describe = () => `exit ${JSON.stringify(exit)}\n${other.join('\n')}\n${logs.slice(-20).map((r) => JSON.stringify(r)).join('\n')}`;
  const log: ServerProcess['log'] = (match, timeoutMs = 20_000) =>
    waitFor(
      () => {
        const r = find(match);
        if (r) return r;
        if (exit) throw new Error(`server exited before logging ${String(match)}: ${describe()}`);
        return undefined;
      },
      `server log ${String(match)}`,
      timeoutMs,
    );

  const listening = await log('ChannelX listening', startTimeoutMs).catch((err) => {
    proc.kill('SIGKILL');
    throw err;
  });
  const url = String(listening.address).replace('[::1]', '127.0.0.1');
  return {
    proc,
    url,
    port: Number(new URL(url).port),
    logs,
    other,
    exited,
    log,
    signal: (sig) => void proc.kill(sig),
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}
