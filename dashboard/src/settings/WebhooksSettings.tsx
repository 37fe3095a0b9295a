/** Settings → Webhooks. Placeholders until built. */
export function WebhooksPage() {
  return <h1>Webhooks</h1>;
}
export function WebhookPage({ webhookId }: { webhookId: number }) {
  return <h1>Webhook {webhookId}</h1>;
}
