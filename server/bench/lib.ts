import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export type StartOptions = {
  /** Preload bench/loop-probe.cjs: the child then answers loopDelay() over its IPC channel. */
  loopProbe?: boolean;
  /** Extra node flags, before the entry point. */
  nodeArgs?: string[];
};

const LOOP_PROBE = fileURLToPath(new URL('./loop-probe.cjs', import.meta.url));

/** Every child started here, so that a bench that gives up can still stop them all. */
export const children = new Set<ChildProcess>();

/** Starts an entry point under plain node (TypeScript through the tsx loader), so the pid is the server's own, for RSS. */
export function startNode(entry: string, args: string[], env: Record<string, string>, opts: StartOptions = {}): ChildProcess {
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const probe = opts.loopProbe ? ['--require', LOOP_PROBE] : [];
  const child = spawn(process.execPath, [...probe, ...(opts.nodeArgs ?? []), ...loader, entry, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  // Without a listener a failed spawn (or a send to a dead child) would be an uncaught 'error'.
  child.on('error', (err) => console.error(`child ${entry}: ${err.message}`));
  return child;
}

/** SIGTERM, then wait for the exit (SIGKILL after `ms`). */
export async function stopChild(child: ChildProcess, ms = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export type LoopDelay = { p50: number; p99: number; max: number; mean: number; count: number };
export type Probe = LoopDelay & { rssMiB: number; heapUsedMiB: number; externalMiB: number };

let probeSeq = 0;
/**
 * Asks a child's bench/loop-probe.cjs: its event-loop delay since the last reset (ms; reset after
 * when `reset`) and its memory (after a full GC when `gc` and the child has --expose-gc). Null when
 * the child has no probe, is gone, or does not answer within `timeoutMs`.
 */
export function probe(child: ChildProcess, o: { reset?: boolean; gc?: boolean } = {}, timeoutMs = 5000): Promise<Probe | null> {
  if (!child.connected) return Promise.resolve(null);
  const id = ++probeSeq;
  return new Promise((resolve) => {
    const done = (v: Probe | null) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(v);
    };
    const onMessage = (m: any) => {
      if (m && m.loopProbe === id) {
        const { loopProbe: _, ...rest } = m;
        done(rest as Probe);
      }
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    child.on('message', onMessage);
    child.send({ loopProbe: id, reset: o.reset ?? false, gc: o.gc ?? false }, (err) => err && done(null));
  });
}

/** The child's event-loop delay since the last reset (ms), resetting it when `reset`; see probe(). */
export const loopDelay = (child: ChildProcess, reset = true, timeoutMs = 5000): Promise<LoopDelay | null> => probe(child, { reset }, timeoutMs);

export async function waitHttp(url: string, timeoutMs = 30_000, child?: ChildProcess) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) before ${url} answered`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (r.status < 500) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
  return kb / 1024;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

export async function json<T = any>(url: string, init: RequestInit & { token?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(init.headers as Record<string, string>) };
  if (init.token) headers.api_access_token = init.token;
  const r = await fetch(url, { signal: AbortSignal.timeout(30_000), ...init, headers });
  const text = await r.text();
  if (r.status >= 400) throw new Error(`${init.method ?? 'GET'} ${url} → ${r.status}: ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const errorMessage = (err: unknown): string => {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
};

// ─────────────────────────────────────────────────────────────────────────────── open-loop load

export type OpenLoopOptions = {
  /** Requests go round-robin over these (one per node). */
  urls: string[];
  /** Requests per second, total. */
  rate: number;
  durationS: number;
  headers: Record<string, string>;
  /** The body of request i. */
  body: (i: number) => string;
  /** Called just before request i is written, with its start time (performance.timeOrigin + now). */
  onSend?: (i: number, startedAt: number) => void;
  /** Requests outstanding at most; a request due while this many are outstanding is dropped. Default 256. */
  maxInflight?: number;
  /** A request sent more than this after its due time counts as late (it is still sent). Default 10 ms. */
  lateMs?: number;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
};

export type OpenLoopResult = {
  due: number;
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  dropped: number;
  late: number;
  firstError: string | null;
  /** Seconds from the first due time to the last response. */
  elapsedS: number;
};

/**
 * A fixed-rate (open-loop) load: request i is due at i / rate seconds, whether or not earlier ones
 * were answered. At most `maxInflight` are outstanding (keep-alive sockets, one pool per run); a due
 * request that finds the pool full is counted `dropped` rather than piled up. Never throws: failures
 * are counted (`errors`: transport errors and timeouts, `non2xx`: answered with another status).
 */
export async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const maxInflight = o.maxInflight ?? 256;
  const lateMs = o.lateMs ?? 10;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxInflight, maxFreeSockets: maxInflight, keepAliveMsecs: 10_000 });
  const targets = o.urls.map((u) => new URL(u));
  const r: OpenLoopResult = { due: 0, sent: 0, ok: 0, non2xx: 0, errors: 0, dropped: 0, late: 0, firstError: null, elapsedS: 0 };
  const total = Math.max(1, Math.round(o.rate * o.durationS));
  let inflight = 0;
  let drained: (() => void) | null = null;
  const finished = () => {
    inflight--;
    if (inflight === 0 && drained) drained();
  };
  const fail = (msg: string) => {
    r.errors++;
    r.firstError ??= msg;
  };

  const send = (i: number) => {
    const t = targets[i % targets.length];
    const payload = Buffer.from(o.body(i));
    inflight++;
    r.sent++;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
      finished();
    };
    try {
      const req = http.request(
        {
          agent,
          host: t.hostname,
          port: t.port,
          path: t.pathname + t.search,
          method: 'POST',
          headers: { ...o.headers, 'content-length': String(payload.length) },
        },
        (res) => {
          res.on('error', (err) => settle(() => fail(err.message)));
          res.on('end', () =>
            settle(() => {
              const s = res.statusCode ?? 0;
              if (s >= 200 && s < 300) r.ok++;
              else {
                r.non2xx++;
                r.firstError ??= `HTTP ${s}`;
              }
            }),
          );
          res.resume();
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      req.on('error', (err) => settle(() => fail(err.message)));
      o.onSend?.(i, performance.timeOrigin + performance.now());
      req.end(payload);
    } catch (err) {
      settle(() => fail(errorMessage(err)));
    }
  };

  const t0 = performance.now();
  let i = 0;
  while (i < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - t0) * o.rate) / 1000) + 1);
    for (; i < due; i++) {
      r.due++;
      if (inflight >= maxInflight) {
        r.dropped++;
        continue;
      }
      if (now - (t0 + (i * 1000) / o.rate) > lateMs) r.late++;
      send(i);
    }
    if (i >= total) break;
    const wait = t0 + (i * 1000) / o.rate - performance.now();
    await new Promise((res) => setTimeout(res, Math.max(0, wait)));
  }
  if (inflight > 0) {
    await new Promise<void>((res) => {
      drained = res;
      // Bounded even if a socket never answers nor times out.
      setTimeout(res, timeoutMs + 2000);
    });
  }
  r.elapsedS = (performance.now() - t0) / 1000;
  agent.destroy();
  return r;
}
