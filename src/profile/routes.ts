import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { currentUser, signedIn } from '../accounts/guard.js';
import { SESSION_COOKIE } from '../kernel/auth.js';
import { errorResponses } from '../accounts/schemas.js';
import { UserSchema } from '../users/presenter.js';
import { signedInUserJson } from '../users/service.js';
import { resetAccessToken, updateProfile } from './service.js';
import { ProfileUpdateBody } from './schemas.js';

/** The signed-in user's own profile (not account-scoped). Token or session cookie. */
export async function register(app: TypedApp, ctx: AppContext) {
  app.get(
    '/api/v1/profile',
    {
      preValidation: signedIn(ctx),
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
      preValidation: signedIn(ctx),
      schema: {
        tags: ['Profile'],
        summary: 'Update the profile (a password change needs current_password)',
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
      preValidation: signedIn(ctx),
      schema: {
        tags: ['Profile'],
        summary: 'Replace the access token (the old one stops working at once)',
        response: { 200: UserSchema, ...errorResponses(401) },
      },
    },
    async (req) => {
      const user = currentUser(req);
      await resetAccessToken(ctx, user);
      return signedInUserJson(ctx, user);
    },
  );
}
