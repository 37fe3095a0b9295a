import type { FastifyRequest } from 'fastify';
import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { SESSION_COOKIE } from '../kernel/auth.js';
import { errorResponses } from '../accounts/schemas.js';
import { dataOf } from '../kernel/presenters.js';
import { presentInvitationPreview, presentSetupStatus, presentSignedOut, presentSignOutMissing } from './presenters.js';
import { setupFirstAccount, setupRequired } from '../accounts/setup.js';
import { signedInUserJson } from '../users/service.js';
import { clearSessionCookie, setSessionCookie } from './session.js';
import { acceptInvitation, pendingInvitation, signIn } from './service.js';
import { AcceptInvitationBody, InvitationJson, InvitationParams, SetupBody, SetupStatusJson, SignedInResponse, SignInBody, SignOutResponse } from './schemas.js';

/** Dashboard authentication: sign-in/out with an HttpOnly session cookie, and invitation links. */
export async function register(app: TypedApp, ctx: AppContext) {
  // Login CSRF: a cross-site page may not sign the browser in (to an attacker's account).
  const sameOriginSignIn = async (req: FastifyRequest) => ctx.auth.origins.check(req, false);
  app.post(
    '/auth/sign_in',
    {
      config: { access: 'public' },
      onRequest: sameOriginSignIn,
      schema: {
        tags: ['Auth'],
        summary: 'Sign in with email and password (sets the session cookie)',
        description: `Rate-limited per IP (${ctx.config.signInRateLimit.perIp} per ${ctx.config.signInRateLimit.perIpWindowS} s) and per email (${ctx.config.signInRateLimit.perEmail} per ${ctx.config.signInRateLimit.perEmailWindowS} s).`,
        security: [],
        body: SignInBody,
        response: { 200: SignedInResponse, ...errorResponses(401, 403, 422, 429) },
      },
    },
    async (req, reply) => {
      const { user, sessionToken } = await signIn(ctx, { email: req.body.email, password: req.body.password, ip: req.ip });
      setSessionCookie(reply, ctx.config, sessionToken);
      const data = await signedInUserJson(ctx, user);
      reply.header('uid', data.uid);
      return dataOf(data);
    },
  );

  app.get(
    '/auth/setup',
    {
      config: { access: 'public' },
      schema: { tags: ['Auth'], summary: 'Whether first-run setup is still possible (no user exists)', security: [], response: { 200: SetupStatusJson } },
    },
    async () => presentSetupStatus(await setupRequired(ctx.database)),
  );

  app.post(
    '/auth/setup',
    {
      config: { access: 'public' },
      onRequest: sameOriginSignIn,
      schema: {
        tags: ['Auth'],
        summary: 'First run: create the account and its administrator, and sign in (only while no user exists)',
        description: 'The same effect as `channelx setup`. 409 once any user exists; of two racing requests exactly one succeeds.',
        security: [],
        body: SetupBody,
        response: { 200: SignedInResponse, ...errorResponses(403, 409, 422) },
      },
    },
    async (req, reply) => {
      const user = await setupFirstAccount(ctx.database, req.body);
      setSessionCookie(reply, ctx.config, await ctx.auth.createSession(user.id));
      return dataOf(await signedInUserJson(ctx, user));
    },
  );

  app.delete(
    '/auth/sign_out',
    {
      config: { access: 'public' },
      // Ending the cookie's session is a cookie-authenticated write.
      onRequest: async (req) => {
        if (req.cookies?.[SESSION_COOKIE]) ctx.auth.origins.check(req, true);
      },
      schema: {
        tags: ['Auth'],
        summary: 'Sign out (ends the cookie session)',
        security: [],
        response: { 200: SignOutResponse, 404: SignOutResponse, ...errorResponses(403) },
      },
    },
    async (req, reply) => {
      const token = req.cookies?.[SESSION_COOKIE];
      clearSessionCookie(reply, ctx.config);
      if (!token) return reply.status(404).send(presentSignOutMissing());
      await ctx.auth.destroySession(token);
      return presentSignedOut();
    },
  );

  app.get(
    '/auth/invitations/:token',
    {
      config: { access: 'public' },
      schema: {
        tags: ['Auth'],
        summary: 'Who an invitation link is for (404 when unknown, expired or used)',
        security: [],
        params: InvitationParams,
        response: { 200: InvitationJson, ...errorResponses(404) },
      },
    },
    async (req) => {
      return presentInvitationPreview(await pendingInvitation(ctx, req.params.token));
    },
  );

  app.post(
    '/auth/invitations/:token',
    {
      config: { access: 'public' },
      onRequest: sameOriginSignIn,
      schema: {
        tags: ['Auth'],
        summary: 'Accept an invitation: set a password and sign in',
        security: [],
        params: InvitationParams,
        body: AcceptInvitationBody,
        response: { 200: SignedInResponse, ...errorResponses(403, 404, 422) },
      },
    },
    async (req, reply) => {
      const { user, sessionToken } = await acceptInvitation(ctx, req.params.token, req.body);
      setSessionCookie(reply, ctx.config, sessionToken);
      return dataOf(await signedInUserJson(ctx, user));
    },
  );
}
