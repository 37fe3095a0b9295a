import { Type, type Static } from 'typebox';
import { AccountIdParams, AccountParams, Open, Text } from '../accounts/schemas.js';

/** Request and response schemas of the canned response routes (src/canned/routes.ts). */

export { AccountIdParams, AccountParams };

export const SHORT_CODE_MAX = 255;
export const CONTENT_MAX = 20_000;

const CannedFields = {
  short_code: Type.Optional(Text(SHORT_CODE_MAX, { description: 'Required on create; unique per account (what an agent types after "/")' })),
  content: Type.Optional(Text(CONTENT_MAX, { description: 'Required on create: the text inserted' })),
};

/** `{canned_response: {short_code, content}}` as the reference takes it, or the same fields unwrapped (the wrapped form wins). */
export const CannedBody = Type.Object({ ...CannedFields, canned_response: Type.Optional(Type.Object(CannedFields)) });
export type CannedBody = Static<typeof CannedBody>;

export const CannedQuery = Type.Object({
  search: Type.Optional(
    Text(255, {
      description:
        'Case-insensitive substring of short_code or content. Results are ordered as the reference does: short_code starting with it, then short_code containing it, then content containing it',
    }),
  ),
});

export const CannedJson = Open(
  {
    id: Type.Integer(),
    account_id: Type.Integer(),
    short_code: Type.String(),
    content: Type.String(),
    created_at: Type.String({ description: 'ISO 8601' }),
    updated_at: Type.String({ description: 'ISO 8601' }),
  },
  'A canned response',
);

export const CannedList = Type.Array(CannedJson, { description: 'A bare array, as in the reference' });
