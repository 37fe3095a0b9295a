/**
 * Node.js receivers that verify a ChannelX callback, one per header set of the webhook contract
 * (DESIGN §3): `X-ChannelX-Signature` (HMAC-SHA256 hex, key = the whole secret string, message =
 * "<timestamp>.<raw body>") and Standard Webhooks `webhook-signature` (HMAC-SHA256 base64, key = the
 * base64-decoded part after `whsec_`, message = "<id>.<timestamp>.<raw body>", several signatures
 * space-separated while a rotated-out secret still signs). The browser test runs these texts
 * against a delivery the server really sent.
 */

export type SnippetKind = 'channelx' | 'standard';

export const SNIPPETS: Record<SnippetKind, { label: string; about: string; code: string }> = {
  channelx: {
    label: 'X-ChannelX-Signature',
    about: 'Checks X-ChannelX-Signature against the current secret. After you rotate the secret, update the receiver: this header carries only the new signature.',
    code: `// Verify ChannelX callbacks (Node.js 18+, no dependencies).
const crypto = require('node:crypto');
const http = require('node:http');

const SECRET = process.env.CHANNELX_WEBHOOK_SECRET; // whsec_… from Settings → Configuration
const TOLERANCE_SECONDS = 5 * 60; // refuse replays of old deliveries

function verifyChannelxSignature(secret, headers, rawBody) {
  const timestamp = headers['x-channelx-timestamp'];
  const signature = headers['x-channelx-signature'];
  if (!timestamp || !signature) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return false;
  // HMAC-SHA256, key = the whole secret string, message = "<timestamp>.<raw body>"
  const expected = 'sha256=' + crypto.createHmac('sha256', secret)
    .update(timestamp + '.')
    .update(rawBody)
    .digest('hex');
  const a = Buffer.from(signature);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const rawBody = Buffer.concat(chunks); // verify the exact bytes, before JSON.parse
    if (!verifyChannelxSignature(SECRET, req.headers, rawBody)) {
      res.writeHead(401).end();
      return;
    }
    const event = JSON.parse(rawBody.toString('utf8'));
    // The delivery id stays the same across retries: use it to skip duplicates.
    console.log(req.headers['x-channelx-delivery'], event.event);
    res.writeHead(200).end();
  });
}).listen(3000);
`,
  },
  standard: {
    label: 'Standard Webhooks',
    about: 'Checks webhook-signature (standardwebhooks.com; its libraries verify it too). For 24 hours after a rotation it also carries a signature made with the previous secret, so the old secret keeps working while you update.',
    code: `// Verify ChannelX callbacks with the Standard Webhooks headers (Node.js 18+, no dependencies).
const crypto = require('node:crypto');
const http = require('node:http');

const SECRET = process.env.CHANNELX_WEBHOOK_SECRET; // whsec_… from Settings → Configuration
const TOLERANCE_SECONDS = 5 * 60; // refuse replays of old deliveries

function verifyStandardWebhook(secret, headers, rawBody) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return false;
  // HMAC-SHA256, key = base64-decoded part after "whsec_", message = "<id>.<timestamp>.<raw body>"
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret);
  const expected = crypto.createHmac('sha256', key)
    .update(id + '.' + timestamp + '.')
    .update(rawBody)
    .digest();
  // "v1,<base64>" entries, space-separated (two during a secret rotation)
  return signatures.split(' ').some((entry) => {
    const [version, value] = entry.split(',');
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
}

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const rawBody = Buffer.concat(chunks); // verify the exact bytes, before JSON.parse
    if (!verifyStandardWebhook(SECRET, req.headers, rawBody)) {
      res.writeHead(401).end();
      return;
    }
    const event = JSON.parse(rawBody.toString('utf8'));
    // webhook-id stays the same across retries: use it to skip duplicates.
    console.log(req.headers['webhook-id'], event.event);
    res.writeHead(200).end();
  });
}).listen(3000);
`,
  },
};
