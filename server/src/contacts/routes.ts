import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { idempotent, userScope } from '../kernel/idempotency.js';
import { presentConversations } from '../conversations/presenters.js';
import { conversationViewer } from '../conversations/service.js';
import { payloadOf } from '../kernel/presenters.js';
import { presentContact, presentContactInbox, presentContactPage, presentContactSearchPage, presentCreatedContact } from './presenters.js';
import { errorResponses, EmptyOk } from '../accounts/schemas.js';
import { ConversationListPayload } from '../conversations/schemas.js';
import * as s from './schemas.js';
import * as service from './service.js';
import { principal } from '../accounts/guard.js';
import { FilterBody } from '../kernel/filter.js';

const BASE = '/api/v1/accounts/:account_id/contacts';
const tags = ['Contacts'];

export async function register(app: TypedApp, ctx: AppContext) {
  const idem = idempotent(ctx.database, userScope);

  const withInboxes = async (auth: Parameters<typeof service.visibleContactInboxes>[1], contact: Parameters<typeof presentContact>[0]) =>
    presentContact(contact, await service.contactView(ctx, auth, contact));

  app.post(
    BASE,
    {
      config: { access: 'member' },
      schema: {
        tags,
        summary: 'Create a contact (with inbox_id: and its session in that inbox)',
        description:
          'With `inbox_id` the contact_inbox is created in the same transaction; its `source_id` (a UUID when absent) identifies the session. Email, phone number and identifier are unique per account: a conflict is a 422 naming the existing contact.',
        params: s.AccountParams,
        body: s.ContactCreateBody,
        response: { 200: s.ContactCreated, ...errorResponses(401, 404, 422) },
      },
      ...idem,
    },
    async (req) => {
      const auth = principal(req);
      const { contact, contactInbox, inbox } = await service.createContact(ctx, auth, req.body);
      return presentCreatedContact(await withInboxes(auth, contact), { contactInbox, inbox });
    },
  );

  app.get(
    BASE,
    {
      config: { access: 'member' },
      schema: {
        tags,
        summary: 'List contacts (15 per page; contacts with an email, phone number or identifier)',
        params: s.AccountParams,
        querystring: s.ContactListQuery,
        response: { 200: s.ContactList, ...errorResponses(401, 422) },
      },
    },
    async (req) => {
      const auth = principal(req);
      return presentContactPage(await service.listContacts(ctx, auth, req.query));
    },
  );

  // Literal segments (search, active, filter) win over /:id: the router matches static paths first.
  app.get(
    `${BASE}/active`,
    {
      config: { access: 'member' },
      schema: {
        tags,
        summary: 'Contacts online now (/cable presence), 15 per page',
        description: 'Contacts whose /cable session pinged within the contact presence window (CONTACT_PRESENCE_S). `meta.count` counts all of them.',
        params: s.AccountParams,
        querystring: s.ContactPageQuery,
        response: { 200: s.ContactList, ...errorResponses(401, 422) },
      },
    },
    async (req) => {
      const auth = principal(req);
      return presentContactPage(await service.activeContacts(ctx, auth, req.query));
    },
  );

  app.post(
    `${BASE}/filter`,
    {
      config: { access: 'member' },
      schema: {
        tags,
        summary: 'Filter contacts with the reference filter payload, 15 per page',
        description:
          'Body `{payload: [{attribute_key, filter_operator, values, query_operator}]}`. Standard attributes: name, email, phone_number, identifier, country_code, city, company, labels, created_at, last_activity_at, blocked; any other key is a custom attribute some contact of the account has. Operators: equal_to, not_equal_to, contains, does_not_contain, starts_with (phone_number), is_present, is_not_present (labels, custom attributes), is_greater_than, is_less_than, days_before (dates; custom numbers). `query_operator` (AND/OR) joins a condition to the next; AND binds tighter. An unknown attribute or operator is a 422. `page` and `sort` as on the list.',
        params: s.AccountParams,
        querystring: s.ContactPageQuery,
        body: FilterBody,
        response: { 200: s.ContactList, ...errorResponses(401, 422) },
      },
    },
    async (req) => {
      const auth = principal(req);
      return presentContactPage(await service.filterContacts(ctx, auth, req.body, req.query));
    },
  );

  app.get(
    `${BASE}/search`,
    {
      config: { access: 'member' },
      schema: {
        tags,
        summary: 'Search every contact by name, email, phone number (case-insensitive), identifier or id; meta.count is the contacts on this page',
        params: s.AccountParams,
        querystring: s.ContactSearchQuery,
        response: { 200: s.ContactSearchResult, ...errorResponses(401, 422) },
      },
    },
    async (req) => {
      const auth = principal(req);
      return presentContactSearchPage(await service.searchContacts(ctx, auth, req.query));
    },
  );

  app.get(
    `${BASE}/:id`,
    { config: { access: 'member' }, schema: { tags, summary: 'Show a contact with its contact inboxes', params: s.AccountIdParams, response: { 200: s.ContactPayload, ...errorResponses(401, 404) } } },
    async (req) => {
      const auth = principal(req);
      const contact = await service.getContact(ctx, auth, req.params.id);
      return payloadOf(await withInboxes(auth, contact));
    },
  );

  for (const method of ['put', 'patch'] as const) {
    app[method](
      `${BASE}/:id`,
      {
        config: { access: 'member' },
        schema: {
          tags,
          summary: 'Update a contact (additional_attributes and custom_attributes are merged)',
          params: s.AccountIdParams,
          body: s.ContactUpdateBody,
          response: { 200: s.ContactPayload, ...errorResponses(401, 404, 422) },
        },
      },
      async (req) => {
        const auth = principal(req);
        const contact = await service.updateContact(ctx, auth.accountId, req.params.id, req.body);
        return payloadOf(await withInboxes(auth, contact));
      },
    );
  }

  app.delete(
    `${BASE}/:id`,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        summary: 'Delete a contact with its sessions and conversations (administrators; 200 with an empty body)',
        description: 'A contact online on /cable right now is not deleted: 422 `{message}`, as the reference.',
        params: s.AccountIdParams,
        response: { 200: EmptyOk, ...errorResponses(401, 404, 422) },
      },
    },
    async (req, reply) => {
      const auth = principal(req);
      await service.deleteContact(ctx, auth, req.params.id);
      return reply.status(200).send();
    },
  );

  app.get(
    `${BASE}/:id/conversations`,
    { config: { access: 'member' }, schema: { tags, summary: "The contact's 20 most recent conversations (in inboxes you can see)", params: s.AccountIdParams, response: { 200: ConversationListPayload, ...errorResponses(401, 404) } } },
    async (req) => {
      const auth = principal(req);
      const convs = await service.contactConversations(ctx, auth, req.params.id);
      return payloadOf(await presentConversations(ctx.database.db, convs, await conversationViewer(ctx, auth)));
    },
  );

  app.get(
    `${BASE}/:id/labels`,
    { config: { access: 'member' }, schema: { tags: ['Contact Labels'], summary: "The contact's labels", params: s.AccountIdParams, response: { 200: s.ContactLabelsResponse, ...errorResponses(401, 404) } } },
    async (req) => {
      const auth = principal(req);
      return payloadOf(await service.getContactLabels(ctx, auth, req.params.id));
    },
  );

  app.post(
    `${BASE}/:id/labels`,
    {
      config: { access: 'member' },
      schema: {
        tags: ['Contact Labels'],
        summary: "Replace the contact's labels",
        description: 'Label titles: any title works, as in the reference (the account labels of /labels are the managed list the dashboard offers; renaming one renames it here). Trimmed, blanks dropped, duplicates removed, order kept. Answers the new list.',
        params: s.AccountIdParams,
        body: s.ContactLabelsBody,
        response: { 200: s.ContactLabelsResponse, ...errorResponses(401, 404, 422) },
      },
      ...idem,
    },
    async (req) => {
      const auth = principal(req);
      return payloadOf(await service.setContactLabels(ctx, auth, req.params.id, req.body.labels));
    },
  );

  app.post(
    `${BASE}/:id/destroy_custom_attributes`,
    {
      config: { access: 'member' },
      schema: {
        tags,
        summary: 'Remove keys from the contact\'s custom_attributes',
        description: 'Keys that are not set are ignored. Answers the contact; records contact.updated when a key went.',
        params: s.AccountIdParams,
        body: s.DestroyCustomAttributesBody,
        response: { 200: s.ContactPayload, ...errorResponses(401, 404, 422) },
      },
    },
    async (req) => {
      const auth = principal(req);
      const keys = req.body.custom_attributes;
      const contact = await service.destroyCustomAttributes(ctx, auth.accountId, req.params.id, Array.isArray(keys) ? keys : [keys]);
      return payloadOf(await withInboxes(auth, contact));
    },
  );

  app.post(
    `${BASE}/:id/contact_inboxes`,
    {
      config: { access: 'member' },
      schema: {
        tags,
        summary: 'Create a session of the contact in an inbox (returned unchanged if it exists)',
        params: s.AccountIdParams,
        body: s.ContactInboxBody,
        response: { 200: s.ContactInboxJson, ...errorResponses(401, 404, 422) },
      },
      ...idem,
    },
    async (req) => {
      const auth = principal(req);
      const ci = await service.addContactInbox(ctx, auth, req.params.id, req.body);
      return presentContactInbox(ci);
    },
  );
}
