import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got: its headers, its raw body and the body parsed when it is JSON. */
export type Hit = { headers: http.IncomingHttpHeaders; raw: string; body: any };

/**
 * A callback receiver on 127.0.0.1 for browser tests: records every request and answers 200, or
 * 500 (with an HTML body, shown as text by the delivery log) while told to fail.
 */
export function receiver() {
  const hits: Hit[] = [];
  let failing = false;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      let body: any = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        /* keep the text */
      }
      hits.push({ headers: req.headers, raw, body });
      res.statusCode = failing ? 500 : 200;
      res.end(failing ? 'receiver down' : 'ok');
    });
  });
  return {
    hits,
    fail: (on: boolean) => void (failing = on),
    listen: () => new Promise<string>((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`))),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
