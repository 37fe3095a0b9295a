import type { TypedApp } from './app.js';
import type { AppContext } from './context.js';
import * as auth from './auth/routes.js';
import * as profile from './profile/routes.js';
import * as accounts from './accounts/routes.js';
import * as agents from './agents/routes.js';
import * as inboxes from './inboxes/routes.js';
import * as contacts from './contacts/routes.js';
import * as conversations from './conversations/routes.js';
import * as messages from './messages/routes.js';
import * as webhooks from './webhooks/routes.js';
import * as publicApi from './public/routes.js';
import * as cable from './realtime/routes.js';
import * as outbox from './outbox/routes.js';
import * as dashboard from './dashboard/routes.js';
import * as teams from './teams/routes.js';
import * as labels from './labels/routes.js';
import * as canned from './canned/routes.js';

/** Every resource registers its own routes; this list is the whole HTTP surface. */
export async function registerRoutes(app: TypedApp, ctx: AppContext) {
  for (const mod of [auth, profile, accounts, agents, inboxes, contacts, conversations, messages, teams, labels, canned, webhooks, publicApi, cable, outbox, dashboard]) {
    await mod.register(app, ctx);
  }
}
