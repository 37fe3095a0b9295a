import crypto from 'node:crypto';

/** How long the previous secret keeps signing after a rotation (DESIGN §3). */
export const ROTATION_GRACE_MS = 24 * 3600 * 1000;

export type SigningSecrets = {
  secret: string;
  previousSecret: string | null;
  /** Epoch ms of the last rotation; the previous secret signs too while this is younger than 24 h. */
  rotatedAt: number | null;
};

/** ChannelX style: `sha256=<hex HMAC-SHA256(key = whole secret string, msg = "<ts>.<body>")>`. */
export function channelxSignature(secret: string, timestamp: number, body: string): string {
  return 'sha256=' + crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** Standard Webhooks key: the base64 part after `whsec_`, decoded (a secret without the prefix is used as UTF-8). */
export function standardKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

/** Standard Webhooks: `v1,<base64 HMAC-SHA256(key, "<id>.<ts>.<body>")>`. */
export function standardSignature(secret: string, id: string, timestamp: number, body: string): string {
  return 'v1,' + crypto.createHmac('sha256', standardKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
}

export function rotationActive(s: SigningSecrets, at: number): boolean {
  return !!s.previousSecret && s.rotatedAt != null && at - s.rotatedAt < ROTATION_GRACE_MS;
}

/**
 * Both header sets of DESIGN §3. During a rotation `webhook-signature` carries the new and the old
 * signature, space-separated; `X-ChannelX-Signature` carries the new one only.
 */
export function signedHeaders(input: {
  deliveryId: string;
  event: string;
  body: string;
  secrets: SigningSecrets;
  userAgent: string;
  at?: number;
}): Record<string, string> {
  const at = input.at ?? Date.now();
  const ts = Math.floor(at / 1000);
  const { deliveryId: id, body, secrets } = input;
  const standard = [standardSignature(secrets.secret, id, ts, body)];
  if (rotationActive(secrets, at)) standard.push(standardSignature(secrets.previousSecret!, id, ts, body));
  return {
    'content-type': 'application/json',
    'user-agent': input.userAgent,
    'x-channelx-delivery': id,
    'x-channelx-event': input.event,
    'x-channelx-timestamp': String(ts),
    'x-channelx-signature': channelxSignature(secrets.secret, ts, body),
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': standard.join(' '),
  };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** `msg_` + a ULID (time-ordered, 26 Crockford base32 chars): the stable delivery id. */
export function newDeliveryId(at = Date.now()): string {
  let time = '';
  let t = at;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = crypto.randomBytes(16);
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[bytes[i] & 31];
  return `msg_${time}${rand}`;
}
