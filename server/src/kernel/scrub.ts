/**
 * Keys that never leave the server in a socket frame or a webhook body, at any depth, whatever a
 * presenter returns (defence in depth: presenters do not include them).
 */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'pubsub_token',
  'hmac_token',
  'secret',
  'previous_secret',
  'access_token',
  'api_access_token',
  'password',
  'password_hash',
  'token_digest',
  'identifier_hash',
]);

/**
 * A copy of `value` without secret-bearing keys. Free-form data the account or contact typed
 * (`*_attributes`) is left as it is: server secrets never live there, and it is the caller's data.
 */
export function scrubSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map(scrubSecrets) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (!SECRET_KEYS.has(k)) out[k] = k.endsWith('_attributes') ? v : scrubSecrets(v);
    }
    return out as T;
  }
  return value;
}
