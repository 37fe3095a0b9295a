import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SECRET_KEYS, scrubSecrets } from '../../src/kernel/scrub.js';

describe('one secret scrubber for sockets and webhooks', () => {
  it('removes every secret-bearing key at any depth, in objects and arrays, without touching the input', () => {
    const input = {
      id: 1,
      pubsub_token: 'p',
      nested: { hmac_token: 'h', keep: true, list: [{ secret: 's', previous_secret: 'ps', name: 'n' }] },
      user: { access_token: 'a', api_access_token: 'b', password: 'c', password_hash: 'd', token_digest: 'e', identifier_hash: 'f' },
    };
    const copy = structuredClone(input);
    expect(scrubSecrets(input)).toEqual({ id: 1, nested: { keep: true, list: [{ name: 'n' }] }, user: {} });
    expect(input).toEqual(copy);
  });

  it('leaves free-form data the account or contact typed as it is', () => {
    const data = { custom_attributes: { secret: 'their own value' }, content_attributes: { items: [{ password: 'x' }] } };
    expect(scrubSecrets(data)).toEqual(data);
  });

  it('holds the union of the keys both audiences scrubbed', () => {
    for (const k of ['pubsub_token', 'hmac_token', 'access_token', 'secret', 'identifier_hash', 'password_hash', 'previous_secret', 'api_access_token', 'password', 'token_digest'])
      expect(SECRET_KEYS.has(k), k).toBe(true);
  });

  it('is the only scrubber in the server', () => {
    const src = path.resolve(import.meta.dirname, '../../src');
    const files = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
    const others = files(src).filter((f) => !f.endsWith(path.join('kernel', 'scrub.ts')) && /new Set\(\[\s*'pubsub_token'|SECRET_KEYS\s*=/.test(fs.readFileSync(f, 'utf8')));
    expect(others.map((f) => path.relative(src, f))).toEqual([]);
  });
});
