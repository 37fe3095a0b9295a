import { Type, type Static } from 'typebox';
import { AnyJson, Id, JsonObject, NullableText, Open, Text } from '../accounts/schemas.js';
import { AgentSchema } from '../users/presenter.js';
import { CallbackWarningsJson } from '../webhooks/schemas.js';

const Hour = Type.Union([Type.Integer({ minimum: 0, maximum: 23 }), Type.Null()]);
const Minutes = Type.Union([Type.Integer({ minimum: 0, maximum: 59 }), Type.Null()]);

/** One day of `working_hours` on input: the day's fields that change (the others stay). */
export const WorkingHourInput = Type.Object({
  day_of_week: Type.Integer({ minimum: 0, maximum: 6, description: '0 = Sunday … 6 = Saturday' }),
  closed_all_day: Type.Optional(Type.Boolean()),
  open_all_day: Type.Optional(Type.Boolean({ description: 'open 0:00-23:59' })),
  open_hour: Type.Optional(Hour),
  open_minutes: Type.Optional(Minutes),
  close_hour: Type.Optional(Hour),
  close_minutes: Type.Optional(Minutes),
});
export type WorkingHourInput = Static<typeof WorkingHourInput>;

/** One day of `working_hours` in the inbox JSON (the reference's weekly schedule). */
export const WorkingHourJson = Open({
  day_of_week: Type.Integer(),
  closed_all_day: Type.Boolean(),
  open_hour: Type.Union([Type.Integer(), Type.Null()]),
  open_minutes: Type.Union([Type.Integer(), Type.Null()]),
  close_hour: Type.Union([Type.Integer(), Type.Null()]),
  close_minutes: Type.Union([Type.Integer(), Type.Null()]),
  open_all_day: Type.Boolean(),
});

const SenderNameType = Type.Union([Type.Literal('friendly'), Type.Literal('professional'), Type.Integer({ minimum: 0, maximum: 1 })]);

/** Inbox settings accepted on create and update (the reference's inbox fields). */
const InboxFields = {
  greeting_enabled: Type.Optional(Type.Boolean()),
  greeting_message: Type.Optional(NullableText(10_000)),
  enable_auto_assignment: Type.Optional(Type.Boolean()),
  working_hours_enabled: Type.Optional(Type.Boolean()),
  out_of_office_message: Type.Optional(NullableText(10_000)),
  timezone: Type.Optional(Text(64, { description: 'an IANA time zone id' })),
  enable_email_collect: Type.Optional(Type.Boolean()),
  csat_survey_enabled: Type.Optional(Type.Boolean()),
  allow_messages_after_resolved: Type.Optional(Type.Boolean()),
  lock_to_single_conversation: Type.Optional(Type.Boolean()),
  sender_name_type: Type.Optional(SenderNameType),
  business_name: Type.Optional(NullableText(255)),
  working_hours: Type.Optional(
    Type.Array(WorkingHourInput, {
      maxItems: 7,
      description: 'Days to change, by day_of_week (the other days stay); closing time after opening time unless closed_all_day or open_all_day',
    }),
  ),
  hmac_mandatory: Type.Optional(Type.Boolean({ description: 'the same as channel.hmac_mandatory (which wins when both are sent)' })),
};

const ChannelFields = {
  webhook_url: Type.Optional(Type.Union([Text(2048), Type.Null()], { description: 'http(s) callback URL; null or "" clears it' })),
  hmac_mandatory: Type.Optional(Type.Boolean()),
  additional_attributes: Type.Optional(JsonObject('e.g. agent_reply_time_window (hours, > 0)')),
};

export const InboxCreateBody = Type.Object({
  name: Text(255, { minLength: 1 }),
  channel: Type.Object({ type: Text(64, { description: "only 'api' is supported" }), ...ChannelFields }),
  ...InboxFields,
});

export const InboxUpdateBody = Type.Object({
  name: Type.Optional(Text(255, { minLength: 1 })),
  channel: Type.Optional(Type.Object({ type: Type.Optional(Text(64)), ...ChannelFields })),
  ...InboxFields,
});

export type InboxFieldsInput = Omit<Static<typeof InboxUpdateBody>, 'channel' | 'name'>;
export type ChannelInput = NonNullable<Static<typeof InboxUpdateBody>['channel']>;
export type InboxCreateInput = Static<typeof InboxCreateBody>;
export type InboxUpdateInput = Static<typeof InboxUpdateBody>;

export const InboxMembersBody = Type.Object({
  inbox_id: Id,
  user_ids: Type.Array(Id, { maxItems: 1000, description: 'user ids; all must be agents of the account' }),
});

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const InboxSchema = Open(
  {
    id: Type.Integer(),
    avatar_url: Type.String(),
    channel_id: Type.Integer(),
    name: Type.String(),
    channel_type: Type.String(),
    greeting_enabled: Type.Boolean(),
    greeting_message: Nullable(Type.String()),
    working_hours_enabled: Type.Boolean(),
    working_hours: Type.Array(WorkingHourJson, { description: 'the weekly schedule, one entry per day_of_week (0 = Sunday)' }),
    enable_email_collect: Type.Boolean(),
    csat_survey_enabled: Type.Boolean(),
    enable_auto_assignment: Type.Boolean(),
    out_of_office_message: Nullable(Type.String()),
    timezone: Type.String(),
    allow_messages_after_resolved: Type.Boolean(),
    lock_to_single_conversation: Type.Boolean(),
    sender_name_type: Type.String(),
    business_name: Nullable(Type.String()),
    webhook_url: Nullable(Type.String()),
    inbox_identifier: Type.String(),
    additional_attributes: AnyJson,
    provider: Type.Null(),
    hmac_token: Type.Optional(Type.String({ description: 'administrators only' })),
    secret: Type.Optional(Type.String({ description: 'administrators only: the webhook signing secret' })),
    hmac_mandatory: Type.Optional(Type.Boolean({ description: 'administrators only' })),
    warnings: Type.Optional(CallbackWarningsJson),
  },
  'An API-channel inbox (`warnings`: administrators, one inbox at a time — show, create, update, reset_secret — never the list)',
);

export const InboxList = Open({ payload: Type.Array(InboxSchema) });
export const InboxDeleted = Open({ message: Type.String({ description: 'Your inbox deletion request will be processed in some time.' }) });
export const InboxParams = Type.Object({ account_id: Id, id: Id });
export const InboxMembersParams = Type.Object({ account_id: Id, inbox_id: Id });
export const MemberList = Open({ payload: Type.Array(AgentSchema) });
