import { Type } from 'typebox';
import { fromJson } from '../kernel/db.js';
import { ACCOUNT_STATUS, AVAILABILITY_NAMES, ROLE_NAMES, type Role } from '../kernel/constants.js';
import { AnyJson, Open } from '../accounts/schemas.js';
import type { MembershipRow, UserRow } from './repository.js';
import type { MembershipInvitationRow } from './membership-invitations-repository.js';

/**
 * The JSON shapes of a user, one per audience: the signed-in user (profile / sign-in), an agent of
 * an account (agents list, inbox members, assignments), push data (sockets, message senders) and
 * webhook data. Nothing else shapes user JSON.
 */

export const AVAILABILITY = AVAILABILITY_NAMES;
export type Availability = (typeof AVAILABILITY)[number];

export const roleName = (n: number): Role => ROLE_NAMES[n] ?? 'agent';
export const availabilityName = (n: number): Availability => AVAILABILITY[n] ?? 'online';

/**
 * Who is connected right now, per account. Real-time presence plugs in here; without it nobody is
 * "present", so agents with auto_offline show as offline and the others show their chosen availability.
 */
export type PresenceLookup = (accountId: number, userId: number) => boolean;
const nobodyPresent: PresenceLookup = () => false;

/** The reference's rule: the chosen availability while present (or always, with auto_offline off), else offline. */
export function availabilityStatus(availability: number, autoOffline: number | boolean, present: boolean): Availability {
  if (!autoOffline || present) return availabilityName(availability);
  return 'offline';
}

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(Number(ms)).toISOString());
export const availableName = (u: Pick<UserRow, 'name' | 'display_name'>) => u.display_name || u.name;

/** The user as the Profile section shows it: the signed-in user, with their token and accounts. */
export function presentUser(
  user: UserRow,
  opts: { accessToken: string; memberships: MembershipRow[]; presence?: PresenceLookup },
) {
  const presence = opts.presence ?? nobodyPresent;
  const current = opts.memberships[0];
  return {
    access_token: opts.accessToken,
    account_id: current?.account_id ?? null,
    available_name: availableName(user),
    avatar_url: '',
    confirmed: !!user.confirmed,
    display_name: user.display_name,
    message_signature: user.message_signature,
    email: user.email,
    id: user.id,
    inviter_id: current?.inviter_id ?? null,
    name: user.name,
    provider: 'email',
    pubsub_token: user.pubsub_token,
    role: current ? roleName(current.role) : null,
    ui_settings: fromJson(user.ui_settings),
    uid: user.email,
    type: 'user',
    accounts: opts.memberships.map((m) => {
      const role = roleName(m.role);
      return {
        id: m.account_id,
        name: m.account_name,
        status: m.account_status === ACCOUNT_STATUS.suspended ? 'suspended' : 'active',
        active_at: iso(m.active_at),
        role,
        permissions: [role],
        availability: availabilityName(m.availability),
        availability_status: availabilityStatus(m.availability, m.auto_offline, presence(m.account_id, user.id)),
        auto_offline: !!m.auto_offline,
        custom_role_id: null,
        api_and_webhooks: true,
      };
    }),
  };
}
export type UserJson = ReturnType<typeof presentUser>;

/** A user in one account: the user's columns plus the account_users row. */
export type AgentRow = Pick<UserRow, 'id' | 'name' | 'display_name' | 'email' | 'confirmed'> & {
  account_id: number;
  role: number;
  availability: number;
  auto_offline: number;
};

/** Agent JSON (agents list, inbox members, assignment responses). No pubsub_token, no access token. */
export function presentAgent(agent: AgentRow, opts: { presence?: PresenceLookup } = {}) {
  const presence = opts.presence ?? nobodyPresent;
  return {
    id: agent.id,
    account_id: agent.account_id,
    availability_status: availabilityStatus(agent.availability, agent.auto_offline, presence(agent.account_id, agent.id)),
    auto_offline: !!agent.auto_offline,
    confirmed: !!agent.confirmed,
    email: agent.email,
    provider: 'email',
    available_name: availableName(agent),
    name: agent.name,
    role: roleName(agent.role),
    thumbnail: '',
    custom_role_id: null,
  };
}
export type AgentJson = ReturnType<typeof presentAgent>;

/** `user.push_event_data`: the sender/assignee/performer shape in socket frames and message JSON. */
export function userPushData(
  user: Pick<UserRow, 'id' | 'name' | 'display_name'>,
  availability_status: Availability = 'offline',
) {
  return { id: user.id, name: user.name, available_name: availableName(user), avatar_url: '', type: 'user' as const, availability_status, thumbnail: '' };
}

/** `user.webhook_data`: the user as webhook payloads show it. */
export function userWebhookData(user: Pick<UserRow, 'id' | 'name' | 'email'>) {
  return { id: user.id, name: user.name, email: user.email, type: 'user' as const };
}

/** An account's pending invitation, as the invited user sees it (GET /api/v1/profile/invitations). */
export function presentMembershipInvitation(inv: MembershipInvitationRow) {
  const inviterName = inv.inviter_id == null || inv.inviter_name == null ? null : inv.inviter_display_name || inv.inviter_name;
  return {
    id: inv.id,
    account_id: inv.account_id,
    account_name: inv.account_name,
    role: roleName(inv.role),
    availability: availabilityName(inv.availability),
    auto_offline: !!inv.auto_offline,
    inviter_name: inviterName,
    created_at: iso(inv.created_at),
    expires_at: iso(inv.expires_at),
  };
}

/* ---- response schemas (OpenAPI + serialization); every object keeps extra keys ---- */

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const AgentSchema = Open(
  {
    id: Type.Integer(),
    account_id: Type.Integer(),
    availability_status: Type.String({ description: 'online | offline | busy' }),
    auto_offline: Type.Boolean(),
    confirmed: Type.Boolean(),
    email: Type.String(),
    provider: Type.String(),
    available_name: Type.String(),
    name: Type.String(),
    role: Type.String({ description: 'agent | administrator' }),
    thumbnail: Type.String(),
    custom_role_id: Type.Null(),
  },
  'An agent of the account',
);

export const UserAccountSchema = Open({
  id: Type.Integer(),
  name: Type.String(),
  status: Type.String(),
  active_at: Nullable(Type.String()),
  role: Type.String(),
  permissions: Type.Array(Type.String()),
  availability: Type.String(),
  availability_status: Type.String(),
  auto_offline: Type.Boolean(),
  custom_role_id: Type.Null(),
  api_and_webhooks: Type.Boolean(),
});

export const UserSchema = Open(
  {
    access_token: Type.String(),
    account_id: Type.Union([Type.Integer(), Type.Null()]),
    available_name: Type.String(),
    avatar_url: Type.String(),
    confirmed: Type.Boolean(),
    display_name: Nullable(Type.String()),
    message_signature: Nullable(Type.String()),
    email: Type.String(),
    id: Type.Integer(),
    inviter_id: Type.Union([Type.Integer(), Type.Null()]),
    name: Type.String(),
    provider: Type.String(),
    pubsub_token: Type.String(),
    role: Nullable(Type.String()),
    ui_settings: AnyJson,
    uid: Type.String(),
    type: Type.String(),
    accounts: Type.Array(UserAccountSchema),
  },
  'The signed-in user',
);

export const MembershipInvitationSchema = Open(
  {
    id: Type.Integer(),
    account_id: Type.Integer(),
    account_name: Type.String(),
    role: Type.String({ description: 'agent | administrator: the role on accepting' }),
    availability: Type.String(),
    auto_offline: Type.Boolean(),
    inviter_name: Nullable(Type.String()),
    created_at: Nullable(Type.String({ description: 'ISO 8601' })),
    expires_at: Nullable(Type.String({ description: 'ISO 8601' })),
  },
  'An account invitation of the signed-in user',
);

/**
 * The agent-create response: the agent, plus the one-time link of a new user, or the expiry of the
 * invitation of a user who already exists (not a member until they accept).
 */
export function presentCreatedAgent(
  created: { agent: AgentRow; invitation?: { url: string; expiresAt: number }; pendingUntil?: number },
  presence?: PresenceLookup,
) {
  const at = (ms: number) => new Date(ms).toISOString();
  if (created.pendingUntil !== undefined) return { ...presentAgent(created.agent), invitation_expires_at: at(created.pendingUntil) };
  const json = presentAgent(created.agent, { presence });
  if (!created.invitation) return json;
  return { ...json, invitation_url: created.invitation.url, invitation_expires_at: at(created.invitation.expiresAt) };
}
