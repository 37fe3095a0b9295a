import type { Webhook } from './WebhookForm.js';
import './callback-warning.css';

export type CallbackWarnings = NonNullable<Webhook['warnings']>;

/** ipaddr range names as a sentence says them. */
const RANGES: Record<string, string> = {
  loopback: 'a loopback address (this machine)',
  private: 'a private network address',
  linkLocal: 'a link-local address',
  carrierGradeNat: 'a carrier-grade NAT address',
  uniqueLocal: 'a unique local (private) address',
  unspecified: 'an unspecified address',
};

/**
 * What the server said about a callback URL it will not call (the `warnings` of an inbox or a
 * webhook): the URL is saved either way, so this says why deliveries will not arrive and what to do, calmly.
 */
export function CallbackWarning({ warnings, what }: { warnings: CallbackWarnings | undefined; what: 'callback' | 'webhook' }) {
  const w = warnings?.find((x) => x.code === 'private_network');
  if (!w) return null;
  const range = RANGES[w.reason] ?? `a ${w.reason} address`;
  const where = w.host === w.address ? <><code>{w.host}</code> is {range}</> : <><code>{w.host}</code> resolves to <code>{w.address}</code>, {range}</>;
  return (
    <div className="notice callback-warning" role="note" data-testid="callback-warning" aria-labelledby="callback-warning-title">
      <p>
        <strong id="callback-warning-title">ChannelX will not call this {what === 'callback' ? 'callback URL' : 'endpoint'} yet.</strong> {where}, and this server does not call private or
        local networks (<code>WEBHOOK_ALLOW_PRIVATE_NETWORK=false</code>). Events are kept and retried, then marked failed.
      </p>
      <p>
        Use a publicly reachable URL, or, if this address is meant to be called (a receiver on your own network), ask whoever runs ChannelX to set <code>WEBHOOK_ALLOW_PRIVATE_NETWORK=true</code>: waiting
        deliveries are then sent when the server restarts.
      </p>
    </div>
  );
}
