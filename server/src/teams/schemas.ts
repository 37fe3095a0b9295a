import { Type, type Static } from 'typebox';
import { AccountParams, Id, NullableText, Open, Text } from '../accounts/schemas.js';
import { AgentSchema } from '../users/presenter.js';

/** Request and response schemas of the team routes (src/teams/routes.ts). */

export { AccountParams };
export const TeamParams = Type.Object({ account_id: Id, team_id: Id });

const TeamFields = {
  name: Type.Optional(Text(255, { description: 'Required on create; stored lowercased, unique per account (case-insensitive)' })),
  description: Type.Optional(NullableText(20_000)),
  allow_auto_assign: Type.Optional(Type.Boolean({ description: 'default true: a conversation joining the team without one of its members as assignee is given to an online member of the team and the inbox with the fewest open conversations' })),
};

/** `{team: {name, description, allow_auto_assign}}` as the reference takes it, or the same fields unwrapped (the wrapped form wins). */
export const TeamBody = Type.Object({ ...TeamFields, team: Type.Optional(Type.Object(TeamFields)) });
export type TeamBody = Static<typeof TeamBody>;

export const TeamMembersBody = Type.Object({
  user_ids: Type.Array(Id, { maxItems: 1000, description: 'user ids; every one must be an agent of the account' }),
});

export const TeamJson = Open(
  {
    id: Type.Integer(),
    name: Type.String({ description: 'lowercased' }),
    description: Type.Union([Type.String(), Type.Null()]),
    allow_auto_assign: Type.Boolean(),
    account_id: Type.Integer(),
    is_member: Type.Boolean({ description: 'whether the caller is a member of the team' }),
  },
  'A team',
);

export const TeamList = Type.Array(TeamJson, { description: 'A bare array, as in the reference' });
export const TeamMemberList = Type.Array(AgentSchema, { description: 'The agents (a bare array, as in the reference)' });
