import crypto from 'node:crypto';

/** A URL-safe random token (like Rails has_secure_token: 24 chars of base58-ish alphabet). */
export function secureToken(bytes = 18): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

/** Webhook signing secret: `whsec_` + base64 of 32 random bytes (Standard Webhooks format). */
export function webhookSecret(): string {
  return 'whsec_' + crypto.randomBytes(32).toString('base64');
}

export function sha256Hex(value: string): string {
  return crypto.createHash('sha256').update(value).digest('hex');
}

/** Constant-time string comparison with a length guard. */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ab.length !== bb.length) {
    crypto.timingSafeEqual(ab, ab); // same work either way
    return false;
  }
  return crypto.timingSafeEqual(ab, bb);
}

export function hmacSha256Hex(key: string, message: string): string {
  return crypto.createHmac('sha256', key).update(message).digest('hex');
}
