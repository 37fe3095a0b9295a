import { useState } from 'react';
import { api, unwrap } from '../../api.js';
import { ConfirmDialog } from '../../contacts/ConfirmDialog.js';
import { SecretValue } from '../../copy.js';
import type { Webhook } from './WebhookForm.js';

/** The webhook's signing secret: masked, revealed or copied; rotated after a confirmation (the new one shown at once). */
export function SigningSecret({ accountId, webhook, onRotated }: { accountId: number; webhook: Webhook; onRotated: (w: Webhook) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [rotated, setRotated] = useState(0);

  async function rotate() {
    const r = await unwrap(api.POST('/api/v1/accounts/{account_id}/webhooks/{id}/reset_secret', { params: { path: { account_id: accountId, id: webhook.id } } }));
    setConfirming(false);
    setRotated((n) => n + 1);
    onRotated(r.payload.webhook);
  }

  return (
    <section className="card" aria-labelledby="secret-title">
      <h2 id="secret-title">Signing secret</h2>
      <p className="muted">
        Every delivery is signed with it (<code>webhook-signature</code>, Standard Webhooks). Verify the signature in your endpoint before trusting a request.
      </p>
      {/* A new key after a rotation: the fresh secret is shown revealed, once. */}
      <SecretValue key={rotated} value={webhook.secret} label="Signing secret" initiallyRevealed={rotated > 0} testId="webhook-secret" />
      {rotated > 0 && (
        <p className="adm-status ok" role="status">
          New secret created. Update your endpoint: the previous secret still signs deliveries for 24 hours.
        </p>
      )}
      <div className="actions">
        <button type="button" className="button" onClick={() => setConfirming(true)}>
          Rotate secret
        </button>
      </div>
      {confirming && (
        <ConfirmDialog title="Rotate the signing secret?" confirmLabel="Rotate secret" busyLabel="Rotating…" onConfirm={rotate} onClose={() => setConfirming(false)}>
          <p>A new secret is created and shown once here. For 24 hours deliveries carry a signature with the previous secret too, so you can switch your endpoint over without losing any.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
