import { Type, type Static } from 'typebox';
import { AccountIdParams, AccountParams, Id, JsonObject, Text } from '../accounts/schemas.js';

/** Request schemas of the contacts routes: validation, TypeScript types and the OpenAPI document. */

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

export const ContactListQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
  sort: Type.Optional(
    Text(64, { description: 'email, name, phone_number, last_activity_at or created_at; prefix with - for descending' }),
  ),
  include_contact_inboxes: Type.Optional(Type.Boolean({ default: true })),
});
export type ContactListQuery = Static<typeof ContactListQuery>;

export const ContactSearchQuery = Type.Object({
  ...ContactListQuery.properties,
  q: Type.Optional(Text(255)),
});
export type ContactSearchQuery = Static<typeof ContactSearchQuery>;

export const ContactInboxBody = Type.Object({
  inbox_id: Id,
  source_id: Type.Optional(Text(255)),
  hmac_verified: Type.Optional(Type.Boolean()),
});
export type ContactInboxBody = Static<typeof ContactInboxBody>;
