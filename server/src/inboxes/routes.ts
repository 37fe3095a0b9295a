import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { principal } from '../accounts/guard.js';
import { AccountParams, errorResponses } from '../accounts/schemas.js';
import { presentInbox, presentInboxDeleted } from './presenter.js';
import { payloadOf } from '../kernel/presenters.js';
import { createInbox, deleteInbox, resetInboxSecret, updateInbox, visibleInbox, visibleInboxes } from './service.js';
import { InboxCreateBody, InboxDeleted, InboxList, InboxParams, InboxSchema, InboxUpdateBody } from './schemas.js';
import { registerMemberRoutes } from './member-routes.js';
import { callbackWarnings } from '../webhooks/service.js';
import type { InboxWithChannel } from './repository.js';

const BASE = '/api/v1/accounts/:account_id/inboxes';

/** One inbox as an administrator gets it: with `warnings` when its callback URL cannot be delivered to. */
async function adminInbox(ctx: AppContext, inbox: InboxWithChannel) {
  return presentInbox(inbox, { admin: true, warnings: await callbackWarnings(ctx, inbox.webhook_url, 'webhook_url') });
}

/** API-channel inboxes. Agents see their member inboxes; administrators see and manage all of the account's. */
export async function register(app: TypedApp, ctx: AppContext) {
  app.get(
    BASE,
    {
      config: { access: 'member' },
      schema: {
        tags: ['Inboxes'],
        summary: 'List inboxes (agents: only inboxes they are members of)',
        params: AccountParams,
        response: { 200: InboxList, ...errorResponses(401) },
      },
    },
    async (req) => {
      const auth = principal(req);
      return payloadOf((await visibleInboxes(ctx, auth)).map((i) => presentInbox(i, { admin: auth.isAdmin })));
    },
  );

  app.get(
    `${BASE}/:id`,
    {
      config: { access: 'member' },
      schema: {
        tags: ['Inboxes'],
        summary: 'Get an inbox (hmac_token and secret only for administrators)',
        params: InboxParams,
        response: { 200: InboxSchema, ...errorResponses(401, 404) },
      },
    },
    async (req) => {
      const auth = principal(req);
      const inbox = await visibleInbox(ctx, auth, req.params.id);
      return auth.isAdmin ? adminInbox(ctx, inbox) : presentInbox(inbox, { admin: false });
    },
  );

  app.post(
    BASE,
    {
      config: { access: 'administrator' },
      schema: {
        tags: ['Inboxes'],
        summary: "Create an API-channel inbox (administrators): channel {type: 'api', webhook_url, hmac_mandatory}",
        params: AccountParams,
        body: InboxCreateBody,
        response: { 200: InboxSchema, ...errorResponses(401, 422) },
      },
    },
    async (req) => {
      const auth = principal(req);
      return adminInbox(ctx, await createInbox(ctx, auth, req.body));
    },
  );

  for (const method of ['PATCH', 'PUT'] as const) {
    app.route({
      method,
      url: `${BASE}/:id`,
      config: { access: 'administrator' },
      schema: {
        tags: ['Inboxes'],
        summary: 'Update an inbox and its channel (administrators)',
        params: InboxParams,
        body: InboxUpdateBody,
        response: { 200: InboxSchema, ...errorResponses(401, 404, 422) },
      },
      handler: async (req) => {
        const auth = principal(req);
        return adminInbox(ctx, await updateInbox(ctx, auth, req.params.id, req.body));
      },
    });
  }

  app.delete(
    `${BASE}/:id`,
    {
      config: { access: 'administrator' },
      schema: {
        tags: ['Inboxes'],
        summary: 'Delete an inbox with its conversations (administrators); answers the reference\'s `{message}`',
        description: 'The reference deletes in a background job and says so in `message`; ChannelX has deleted everything when it answers.',
        params: InboxParams,
        response: { 200: InboxDeleted, ...errorResponses(401, 404) },
      },
    },
    async (req) => {
      const auth = principal(req);
      await deleteInbox(ctx, auth, req.params.id);
      return presentInboxDeleted();
    },
  );

  app.post(
    `${BASE}/:id/reset_secret`,
    {
      config: { access: 'administrator' },
      schema: {
        tags: ['Inboxes'],
        summary: 'Rotate the webhook signing secret (administrators); the old one stays valid for signing during the overlap',
        params: InboxParams,
        response: { 200: InboxSchema, ...errorResponses(401, 404) },
      },
    },
    async (req) => {
      const auth = principal(req);
      return adminInbox(ctx, await resetInboxSecret(ctx, auth, req.params.id));
    },
  );

  await registerMemberRoutes(app, ctx);
}
