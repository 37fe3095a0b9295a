/**
 * Event-loop delay probe for a bench child process, loaded with `node --require bench/loop-probe.cjs`
 * (bench/lib.ts startNode(…, { loopProbe: true })). The server's code is not touched: the probe keeps
 * a perf_hooks histogram and answers the parent over the child's IPC channel.
 *
 *   parent → child  { loopProbe: <id>, reset: true|false, gc: true|false }
 *   child → parent  { loopProbe: <id>, p50, p99, max, mean, count,   (milliseconds; then reset if asked)
 *                     rssMiB, heapUsedMiB, externalMiB }               (after a full GC when asked and
 *                                                                       the child runs with --expose-gc)
 */
'use strict';
const { monitorEventLoopDelay } = require('node:perf_hooks');

if (typeof process.send === 'function') {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const ms = (ns) => (Number.isFinite(ns) ? Math.round(ns / 1e4) / 100 : null);
  process.on('message', (m) => {
    if (!m || typeof m !== 'object' || m.loopProbe === undefined) return;
    if (m.gc && typeof globalThis.gc === 'function') globalThis.gc();
    const mem = process.memoryUsage();
    const mib = (b) => Math.round((b / 1048576) * 10) / 10;
    const reply = {
      loopProbe: m.loopProbe,
      p50: ms(histogram.percentile(50)),
      p99: ms(histogram.percentile(99)),
      max: ms(histogram.max),
      mean: ms(histogram.mean),
      count: histogram.count,
      rssMiB: mib(mem.rss),
      heapUsedMiB: mib(mem.heapUsed),
      externalMiB: mib(mem.external),
    };
    if (m.reset) histogram.reset();
    try {
      process.send(reply);
    } catch {
      /* the parent is gone */
    }
  });
  // A 'message' listener refs the IPC channel (on the next tick); the probe must never keep the process alive.
  setImmediate(() => process.channel && process.channel.unref());
}
