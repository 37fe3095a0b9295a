import { Type, type Static } from 'typebox';
import { AccountIdParams, AccountParams, AnyJson, Id, JsonObject, Nullable, Open, Text } from '../accounts/schemas.js';

/** Request and response schemas of the contacts routes: validation, TypeScript types and the OpenAPI document. */

export { AccountParams, AccountIdParams };

const NullableText = (max: number, description?: string) =>
  Type.Union([Text(max), Type.Null()], description ? { description } : {});

const contactFields = {
  name: Type.Optional(Text(255)),
  email: Type.Optional(NullableText(255, 'Unique per account (case-insensitive); "" clears it')),
  phone_number: Type.Optional(NullableText(32, 'E.164, e.g. +14155550123; unique per account')),
  identifier: Type.Optional(NullableText(255, 'Your own id for this person; unique per account')),
  blocked: Type.Optional(Type.Boolean()),
  avatar_url: Type.Optional(Text(2048, { description: 'Accepted and ignored (no avatars yet)' })),
  additional_attributes: Type.Optional(JsonObject('Merged into the existing attributes on update')),
  custom_attributes: Type.Optional(JsonObject('Merged into the existing attributes on update')),
};

export const ContactCreateBody = Type.Object({
  ...contactFields,
  inbox_id: Type.Optional(Id),
  source_id: Type.Optional(Text(255, { description: 'Session id in the inbox; a UUID is generated when absent' })),
});
export type ContactCreateBody = Static<typeof ContactCreateBody>;

export const ContactUpdateBody = Type.Object(contactFields);
export type ContactUpdateBody = Static<typeof ContactUpdateBody>;

/** `page`, `sort` and `include_contact_inboxes`: every contact page takes them (list, search, active, filter). */
export const ContactPageQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
  sort: Type.Optional(
    Text(64, {
      description:
        'name, email, phone_number, last_activity_at, created_at, company_name, city or country (the last three from additional_attributes); prefix with - for descending',
    }),
  ),
  include_contact_inboxes: Type.Optional(Type.Boolean({ default: true })),
});

export const ContactListQuery = Type.Object({
  ...ContactPageQuery.properties,
  labels: Type.Optional(Type.Array(Text(255), { maxItems: 100, description: 'Contacts with any of these labels' })),
});
export type ContactListQuery = Static<typeof ContactListQuery>;

export const ContactSearchQuery = Type.Object({
  ...ContactPageQuery.properties,
  q: Type.Optional(Text(255)),
});
export type ContactSearchQuery = Static<typeof ContactSearchQuery>;

export const ContactInboxBody = Type.Object({
  inbox_id: Id,
  source_id: Type.Optional(Text(255)),
  hmac_verified: Type.Optional(Type.Boolean()),
});
export type ContactInboxBody = Static<typeof ContactInboxBody>;

/* ---------------- responses (src/contacts/presenters.ts) ---------------- */

/** The inbox inside a contact_inbox entry (presentInboxSlim). */
export const InboxSlim = Open({
  id: Type.Integer(),
  avatar_url: Type.String(),
  channel_id: Type.Integer(),
  name: Type.String(),
  channel_type: Type.String(),
  provider: Type.Null(),
});

/** A contact session in an inbox: `{source_id, pubsub_token, hmac_verified, inbox}`. */
export const ContactInboxJson = Open(
  {
    source_id: Type.String(),
    pubsub_token: Type.String({ description: "The session's token, to subscribe to /cable" }),
    hmac_verified: Type.Boolean(),
    inbox: InboxSlim,
  },
  'A contact_inbox (session of the contact in an inbox)',
);

/** `_contact`: the Application API contact. */
export const ContactJson = Open(
  {
    additional_attributes: AnyJson,
    availability_status: Type.String({ description: 'online | offline' }),
    email: Nullable(Type.String()),
    id: Type.Integer(),
    name: Type.String(),
    phone_number: Nullable(Type.String()),
    blocked: Type.Boolean(),
    identifier: Nullable(Type.String()),
    thumbnail: Type.String(),
    custom_attributes: AnyJson,
    last_activity_at: Type.Optional(Type.Integer({ description: 'unix seconds; absent for a contact never active' })),
    created_at: Type.Integer({ description: 'unix seconds' }),
    updated_at: Type.Integer({ description: 'unix seconds' }),
    contact_inboxes: Type.Optional(Type.Array(ContactInboxJson, { description: 'on the /contacts endpoints (omitted by include_contact_inboxes=false)' })),
  },
  'A contact',
);

export const ContactPayload = Open({ payload: ContactJson });

/** The inbox record of POST /contacts (presentInboxRecord; null without inbox_id). */
const InboxRecord = Open({ id: Type.Integer(), channel_id: Type.Integer(), account_id: Type.Integer(), name: Type.String(), channel_type: Type.String() });

export const ContactCreated = Open({
  payload: Open({
    contact: ContactJson,
    contact_inbox: Open({
      inbox: Nullable(InboxRecord),
      source_id: Nullable(Type.String()),
      pubsub_token: Nullable(Type.String({ description: 'Subscribe to /cable with it to follow this session' })),
    }),
  }),
});

const PageMeta = { count: Type.Integer({ description: 'every matching contact' }), current_page: Type.Integer(), total_pages: Type.Integer() };
export const ContactList = Open({ meta: Open(PageMeta), payload: Type.Array(ContactJson) });
export const ContactSearchResult = Open({
  meta: Open({
    count: Type.Integer({ description: 'the contacts on this page (as the reference); total_count counts every match' }),
    current_page: Type.Integer(),
    has_more: Type.Boolean(),
    total_count: Type.Integer(),
    total_pages: Type.Integer(),
  }),
  payload: Type.Array(ContactJson),
});

export const ContactLabelsBody = Type.Object({
  labels: Type.Optional(Type.Array(Text(255), { maxItems: 100, description: 'Replaces the whole label list (label titles)' })),
});
export const ContactLabelsResponse = Open({ payload: Type.Array(Type.String()) });

export const DestroyCustomAttributesBody = Type.Object({
  custom_attributes: Type.Union([Type.Array(Text(255), { maxItems: 1000 }), Text(255)], { description: 'The keys to remove from custom_attributes (one key may be sent as a string)' }),
});
