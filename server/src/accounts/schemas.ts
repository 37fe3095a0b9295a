import { Type, type TSchema } from 'typebox';

/**
 * Schema building blocks shared by the Application API route modules, and the account schemas.
 * Limits match the database columns, so PostgreSQL never sees a value it would reject.
 */

/** A database id: a positive 32-bit integer (a larger value would overflow a PostgreSQL integer). */
export const Id = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });

/** PostgreSQL text cannot hold NUL characters; refuse them at the edge. */
const NO_NUL = '^[^\\u0000]*$';

/** A string column of at most `max` characters. */
export const Text = (max: number, opts: Record<string, unknown> = {}) => Type.String({ maxLength: max, pattern: NO_NUL, ...opts });

/** Nullable text (null or "" clears the column). */
export const NullableText = (max: number) => Type.Union([Text(max), Type.Null()]);

export const EMAIL_PATTERN = '^[^@\\s\\u0000]+@[^@\\s\\u0000]+\\.[^@\\s\\u0000]+$';
export const Email = Type.String({ maxLength: 255, pattern: EMAIL_PATTERN, description: 'an email address' });

/** A JSON object; multipart and urlencoded clients may send it as a JSON string. */
export const JsonObject = (description?: string) =>
  Type.Union([Type.Object({}, { additionalProperties: true }), Type.String({ maxLength: 20_000 })], description ? { description } : {});

/** Any JSON value in a response (fast-json-stringify passes it through). */
export const AnyJson = Type.Unknown();

export const AccountParams = Type.Object({ account_id: Id });
export const AccountIdParams = Type.Object({ account_id: Id, id: Id });

/** Error bodies, for the OpenAPI document. */
export const ErrorBody = Type.Object(
  { error: Type.String(), message: Type.Optional(Type.String()), attributes: Type.Optional(Type.Array(Type.String())) },
  { additionalProperties: true },
);
export const errorResponses = <C extends number>(...codes: C[]) =>
  Object.fromEntries(codes.map((c) => [c, ErrorBody])) as { [K in C]: typeof ErrorBody };

/** `head :ok` in the reference: 200 with an empty body. */
export const EmptyOk = Type.Unknown({ description: 'Empty body' });

/** An object response that keeps every key the presenter built (responses may carry more keys). */
export const Open = <T extends Record<string, TSchema>>(props: T, description?: string) =>
  Type.Object(props, { additionalProperties: true, ...(description ? { description } : {}) });

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
/** A response value that may be null. */
export { Nullable };

export const AccountJson = Open(
  {
    id: Type.Integer(),
    name: Type.String(),
    locale: Type.String(),
    domain: Nullable(Type.String()),
    support_email: Nullable(Type.String()),
    status: Type.String({ description: 'active | suspended' }),
    settings: AnyJson,
    custom_attributes: AnyJson,
    features: AnyJson,
    auto_resolve_duration: Nullable(Type.Integer()),
    created_at: Type.String({ description: 'ISO 8601' }),
    updated_at: Type.String({ description: 'ISO 8601' }),
  },
  'An account',
);

const AccountFields = {
  name: Type.Optional(Text(255, { minLength: 1 })),
  locale: Type.Optional(Text(16, { pattern: '^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?$' })),
  domain: Type.Optional(NullableText(100)),
  support_email: Type.Optional(Type.Union([Type.String({ maxLength: 100, pattern: `(${EMAIL_PATTERN})|^$` }), Type.Null()])),
  settings: Type.Optional(JsonObject('merged into the existing settings')),
};

export const AccountUpdateBody = Type.Object({
  ...AccountFields,
  account: Type.Optional(Type.Object(AccountFields)),
});

/** GET /health (200 when the database answers, 503 otherwise). */
export const HealthJson = Open({
  status: Type.String({ description: 'ok | degraded' }),
  database: Type.String({ description: 'up | down' }),
  version: Type.String(),
});
