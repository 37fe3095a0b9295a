import { Type } from 'typebox';
import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { currentUser } from '../accounts/guard.js';
import { SESSION_COOKIE } from '../kernel/auth.js';
import { EmptyOk, errorResponses, Id } from '../accounts/schemas.js';
import { MembershipInvitationSchema, presentMembershipInvitation, UserSchema } from '../users/presenter.js';
import { payloadOf } from '../kernel/presenters.js';
import { signedInUserJson } from '../users/service.js';
import { resetAccessToken, updateProfile } from './service.js';
import { ProfileUpdateBody } from './schemas.js';
import { acceptAccountInvitation, declineAccountInvitation, invitationsOf } from './invitations.js';

const InvitationIdParams = Type.Object({ id: Id });

/** The signed-in user's own profile (not account-scoped). Token or session cookie. */
export async function register(app: TypedApp, ctx: AppContext) {
  app.get(
    '/api/v1/profile',
    {
      config: { access: 'signed-in' },
      schema: {
        tags: ['Profile'],
        summary: 'The signed-in user, with the access token and accounts',
        response: { 200: UserSchema, ...errorResponses(401) },
      },
    },
    async (req) => {
      const user = currentUser(req);
      return signedInUserJson(ctx, user);
    },
  );

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/api/v1/profile',
      config: { access: 'signed-in' },
      schema: {
        tags: ['Profile'],
        summary: 'Update the profile (a password change needs current_password and rotates the pubsub_token)',
        body: ProfileUpdateBody,
        response: { 200: UserSchema, ...errorResponses(401, 422) },
      },
      handler: async (req) => {
        const user = currentUser(req);
        const { profile, ...flat } = req.body;
        const updated = await updateProfile(ctx, user, { ...flat, ...profile }, req.cookies?.[SESSION_COOKIE]);
        return signedInUserJson(ctx, updated);
      },
    });
  }

  app.post(
    '/api/v1/profile/reset_access_token',
    {
      config: { access: 'signed-in' },
      schema: {
        tags: ['Profile'],
        summary: 'Replace the access token and the pubsub_token (the old ones stop working at once)',
        description: 'Sockets subscribed with the old pubsub_token are disconnected (`unauthorized`, no reconnect); the response carries the new tokens.',
        response: { 200: UserSchema, ...errorResponses(401) },
      },
    },
    async (req) => {
      const user = currentUser(req);
      return signedInUserJson(ctx, await resetAccessToken(ctx, user));
    },
  );

  // Accounts inviting the user (issue 9 item 4): an existing user joins another account only by accepting.
  app.get(
    '/api/v1/profile/invitations',
    {
      config: { access: 'signed-in' },
      schema: {
        tags: ['Profile'],
        summary: 'Accounts that invite the signed-in user and that they have not answered yet',
        response: { 200: Type.Object({ payload: Type.Array(MembershipInvitationSchema) }), ...errorResponses(401) },
      },
    },
    async (req) => payloadOf((await invitationsOf(ctx, currentUser(req))).map(presentMembershipInvitation)),
  );

  app.post(
    '/api/v1/profile/invitations/:id/accept',
    {
      config: { access: 'signed-in' },
      schema: {
        tags: ['Profile'],
        summary: 'Accept an account invitation: become a member of that account (the response is the profile)',
        params: InvitationIdParams,
        response: { 200: UserSchema, ...errorResponses(401, 404) },
      },
    },
    async (req) => signedInUserJson(ctx, await acceptAccountInvitation(ctx, currentUser(req), req.params.id)),
  );

  app.post(
    '/api/v1/profile/invitations/:id/decline',
    {
      config: { access: 'signed-in' },
      schema: {
        tags: ['Profile'],
        summary: 'Decline an account invitation (the account stops listing you as invited)',
        params: InvitationIdParams,
        response: { 200: EmptyOk, ...errorResponses(401, 404) },
      },
    },
    async (req, reply) => {
      await declineAccountInvitation(ctx, currentUser(req), req.params.id);
      return reply.status(200).send(undefined);
    },
  );
}
