import { Type, type Static } from 'typebox';
import { AccountIdParams, AccountParams, NullableText, Open, Text } from '../accounts/schemas.js';

/** Request and response schemas of the account label routes (src/labels/routes.ts). */

export { AccountIdParams, AccountParams };

export const LABEL_TITLE = /^[\p{L}\p{N}_-]+$/u;
export const LABEL_COLOR = /^#[0-9a-fA-F]{6}$/;
export const DEFAULT_LABEL_COLOR = '#1f93ff';

const LabelFields = {
  title: Type.Optional(
    Text(255, {
      description: 'Required on create: letters, digits, "-" and "_" only (no spaces); stored lowercased, unique per account (case-insensitive)',
    }),
  ),
  description: Type.Optional(NullableText(20_000)),
  color: Type.Optional(Text(7, { description: `#RRGGBB (default ${DEFAULT_LABEL_COLOR})` })),
  show_on_sidebar: Type.Optional(Type.Boolean({ description: 'default false' })),
};

/** `{label: {title, description, color, show_on_sidebar}}` as the reference takes it, or the same fields unwrapped (the wrapped form wins). */
export const LabelBody = Type.Object({ ...LabelFields, label: Type.Optional(Type.Object(LabelFields)) });
export type LabelBody = Static<typeof LabelBody>;

export const LabelJson = Open(
  {
    id: Type.Integer(),
    title: Type.String({ description: 'lowercased' }),
    description: Type.Union([Type.String(), Type.Null()]),
    color: Type.String({ description: '#rrggbb' }),
    show_on_sidebar: Type.Boolean(),
  },
  'An account label',
);

export const LabelListResponse = Open({ payload: Type.Array(LabelJson, { description: 'by title' }) });

/** ChannelX extension of GET /conversations/meta: per account label, its open conversations for a sidebar. */
export const LabelCounts = Open(
  {
    id: Type.Integer({ description: 'the label id' }),
    title: Type.String(),
    open_count: Type.Integer({ description: 'open conversations with this label (case-insensitive match) that the caller can see' }),
    unread_count: Type.Integer({ description: 'how many of them have unread incoming messages (after agent_last_seen_at)' }),
  },
  'Counts of one account label',
);
