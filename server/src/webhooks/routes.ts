import type { Static } from 'typebox';
import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { AccountIdParams, AccountParams, EmptyOk, errorResponses } from '../accounts/schemas.js';
import * as service from './service.js';
import {
  DeliveryJson,
  DeliveryPageResponse,
  DeliveryQuery,
  InboxDeliveriesParams,
  RedeliverParams,
  WebhookBody,
  WebhookListResponse,
  WebhookResponse,
} from './schemas.js';

const tags = ['Webhooks'];
const base = '/api/v1/accounts/:account_id';

/** `{webhook:{…}}` or the same fields unwrapped; the wrapped form wins. */
function input(body: Static<typeof WebhookBody>): service.WebhookInput {
  const src = body.webhook ?? body;
  return { url: src.url, name: src.name, inbox_id: src.inbox_id, subscriptions: src.subscriptions };
}

/** Account webhooks, the delivery log and redelivery. Administrators only. */
export async function register(app: TypedApp, ctx: AppContext) {
  app.get(
    `${base}/webhooks`,
    { config: { access: 'administrator' }, schema: { tags, summary: 'List account webhooks', params: AccountParams, response: { 200: WebhookListResponse, ...errorResponses(401, 404) } } },
    async (req) => {
      return service.listWebhooks(ctx, req.params.account_id);
    },
  );

  app.post(
    `${base}/webhooks`,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        summary: 'Create an account webhook (a signing secret is generated)',
        params: AccountParams,
        body: WebhookBody,
        response: { 200: WebhookResponse, ...errorResponses(401, 404, 422) },
      },
    },
    async (req) => {
      return service.createWebhook(ctx, req.params.account_id, input(req.body));
    },
  );

  for (const method of ['patch', 'put'] as const) {
    app[method](
      `${base}/webhooks/:id`,
      {
        config: { access: 'administrator' },
        schema: {
          tags,
          summary: 'Update an account webhook (re-enables one that a 410 disabled)',
          params: AccountIdParams,
          body: WebhookBody,
          response: { 200: WebhookResponse, ...errorResponses(401, 404, 422) },
        },
      },
      async (req) => {
        return service.updateWebhook(ctx, req.params.account_id, req.params.id, input(req.body));
      },
    );
  }

  app.delete(
    `${base}/webhooks/:id`,
    { config: { access: 'administrator' }, schema: { tags, summary: 'Delete an account webhook and its delivery log', params: AccountIdParams, response: { 200: EmptyOk, ...errorResponses(401, 404) } } },
    async (req, reply) => {
      await service.deleteWebhook(ctx, req.params.account_id, req.params.id);
      return reply.status(200).send();
    },
  );

  app.post(
    `${base}/webhooks/:id/reset_secret`,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        summary: 'Rotate the signing secret (the previous one also signs webhook-signature for 24 h)',
        params: AccountIdParams,
        response: { 200: WebhookResponse, ...errorResponses(401, 404) },
      },
    },
    async (req) => {
      return service.resetWebhookSecret(ctx, req.params.account_id, req.params.id);
    },
  );

  app.get(
    `${base}/webhooks/:id/deliveries`,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        summary: 'Delivery log of an account webhook (25 per page, newest first)',
        params: AccountIdParams,
        querystring: DeliveryQuery,
        response: { 200: DeliveryPageResponse, ...errorResponses(401, 404, 422) },
      },
    },
    async (req) => {
      return service.webhookDeliveries(ctx, req.params.account_id, req.params.id, req.query);
    },
  );

  app.get(
    `${base}/inboxes/:inbox_id/webhook_deliveries`,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        summary: 'Delivery log of an API inbox callback (25 per page, newest first)',
        params: InboxDeliveriesParams,
        querystring: DeliveryQuery,
        response: { 200: DeliveryPageResponse, ...errorResponses(401, 404, 422) },
      },
    },
    async (req) => {
      return service.inboxDeliveries(ctx, req.params.account_id, req.params.inbox_id, req.query);
    },
  );

  app.post(
    `${base}/webhook_deliveries/:id/redeliver`,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        summary: 'Send a delivery again now (any status; same delivery id; retry schedule restarts)',
        params: RedeliverParams,
        response: { 200: DeliveryJson, ...errorResponses(401, 404, 422) },
      },
    },
    async (req) => {
      return service.redeliver(ctx, req.params.account_id, req.params.id);
    },
  );
}
