import { Type, type Static } from 'typebox';
import { Email, Open, Text } from '../accounts/schemas.js';
import { AgentSchema } from '../users/presenter.js';

const Role = Type.Union([Type.Literal('agent'), Type.Literal('administrator')]);
const Availability = Type.Union([Type.Literal('online'), Type.Literal('offline'), Type.Literal('busy')]);

const CreateFields = {
  name: Type.Optional(Text(255)),
  email: Type.Optional(Email),
  role: Type.Optional(Role),
  availability: Type.Optional(Availability),
  auto_offline: Type.Optional(Type.Boolean()),
  password: Type.Optional(Type.String({ maxLength: 1024, description: 'optional; without it the response carries a one-time invitation_url' })),
};

/** `{agent: {...}}` as the reference sends it, or the same keys at the top level. */
export const AgentCreateBody = Type.Object({ ...CreateFields, agent: Type.Optional(Type.Object(CreateFields)) });
export type AgentCreateInput = Omit<Static<typeof AgentCreateBody>, 'agent'>;

/**
 * Only account-scoped fields are applied. `name` is still accepted (and validated) for reference
 * clients but ignored, like email and password: they belong to the user (their profile).
 */
const UpdateFields = {
  name: Type.Optional(Text(255, { description: "ignored: the name is the user's own (their profile)" })),
  role: Type.Optional(Role),
  availability: Type.Optional(Availability),
  auto_offline: Type.Optional(Type.Boolean()),
};
export const AgentUpdateBody = Type.Object({ ...UpdateFields, agent: Type.Optional(Type.Object(UpdateFields)) });
export type AgentUpdateInput = Omit<Static<typeof AgentUpdateBody>, 'agent'>;

export const AgentList = Type.Array(AgentSchema);

export const CreatedAgent = Open(
  {
    ...AgentSchema.properties,
    invitation_url: Type.Optional(Type.String({ description: 'one-time link for the invited agent to set a password (only when no password was given)' })),
    invitation_expires_at: Type.Optional(Type.String({ description: 'ISO 8601; also for an invited existing user (pending until they accept)' })),
  },
  'The created agent',
);
