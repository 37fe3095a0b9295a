import dns from 'node:dns';
import net from 'node:net';
import { blockedReason } from './http-client.js';

/**
 * Whether a callback URL can be delivered to under the SSRF guard (src/webhooks/http-client.ts),
 * said when an inbox callback or an account webhook is saved or shown, so an administrator learns
 * it at once rather than from the delivery log. Only advice: the URL is stored either way (DNS may
 * change, and the guard decides at connect time on the address it connects to).
 *
 * An IP literal is judged as it is; a host name is resolved with a short bound. A lookup that fails
 * or takes longer says nothing ("cannot tell"): never a warning, never an error.
 */

export type PrivateCallback = { host: string; address: string; reason: string };

export type CallbackCheckOptions = {
  allowPrivateNetwork: boolean;
  /** Bound on one host name lookup. */
  timeoutMs?: number;
  /** The resolver (tests); dns.lookup with every address by default. */
  lookup?: (host: string) => Promise<string[]>;
};

const TIMEOUT_MS = 1500;
/** How long a host name's answer is reused (a list of webhooks, an inbox opened again). */
const CACHE_MS = 30_000;
const CACHE_MAX = 1000;

const systemLookup = (host: string) => dns.promises.lookup(host, { all: true, verbatim: true }).then((list) => list.map((a) => a.address));

/** Answers (or lookups under way) per host name; a failed or slow lookup is remembered as no answer. */
const cache = new Map<string, { at: number; addresses: Promise<string[] | null> }>();

/**
 * Lookups run on libuv's small thread pool (shared with file and crypto work), and a resolver that
 * hangs holds a thread past our bound: at most this many run at once; the others wait in line
 * within their own bound, and one whose bound passed in line is never started.
 */
const MAX_LOOKUPS = 2;
let running = 0;
const waiting: (() => void)[] = [];

function inLine(host: string, lookup: (host: string) => Promise<string[]>, expired: () => boolean): Promise<string[] | null> {
  return new Promise((done) => {
    const start = () => {
      if (expired()) {
        done(null);
        waiting.shift()?.();
        return;
      }
      running++;
      lookup(host)
        .then(done, () => done(null))
        .finally(() => {
          running--;
          waiting.shift()?.();
        });
    };
    if (running < MAX_LOOKUPS) start();
    else waiting.push(start);
  });
}

function resolveBounded(host: string, opts: CallbackCheckOptions): Promise<string[] | null> {
  const t = Date.now();
  const hit = opts.lookup ? undefined : cache.get(host);
  if (hit && t - hit.at < CACHE_MS) return hit.addresses;
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<null>((done) => {
    timer = setTimeout(() => ((timedOut = true), done(null)), opts.timeoutMs ?? TIMEOUT_MS);
    timer.unref();
  });
  const addresses = Promise.race([inLine(host, opts.lookup ?? systemLookup, () => timedOut), bound]).finally(() => clearTimeout(timer));
  if (!opts.lookup) {
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(host, { at: t, addresses });
  }
  return addresses;
}

/**
 * The first address of the URL's host that the guard refuses, or null: nothing to say (a public
 * address, private networks allowed, not a URL, or the lookup could not tell).
 */
export async function privateCallback(url: string | null | undefined, opts: CallbackCheckOptions): Promise<PrivateCallback | null> {
  if (!url || opts.allowPrivateNetwork) return null;
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return null;
  }
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (!bare) return null;
  const addresses = net.isIP(bare) ? [bare] : await resolveBounded(bare.toLowerCase(), opts);
  for (const address of addresses ?? []) {
    const reason = blockedReason(address);
    if (reason) return { host: bare, address, reason };
  }
  return null;
}
