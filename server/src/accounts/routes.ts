import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { principal } from './guard.js';
import { presentAccount } from './presenter.js';
import { editAccount, getAccount } from './service.js';
import { AccountJson, AccountParams, AccountUpdateBody, errorResponses } from './schemas.js';

/** The account itself: any member reads it, administrators edit it. */
export async function register(app: TypedApp, ctx: AppContext) {
  app.get(
    '/api/v1/accounts/:account_id',
    {
      config: { access: 'member' },
      schema: {
        tags: ['Account'],
        summary: 'Get the account',
        params: AccountParams,
        response: { 200: AccountJson, ...errorResponses(401, 404) },
      },
    },
    async (req) => {
      const auth = principal(req);
      return presentAccount(await getAccount(ctx, auth));
    },
  );

  for (const method of ['PATCH', 'PUT'] as const) {
    app.route({
      method,
      url: '/api/v1/accounts/:account_id',
      config: { access: 'administrator' },
      schema: {
        tags: ['Account'],
        summary: 'Update the account (administrators); settings are merged',
        params: AccountParams,
        body: AccountUpdateBody,
        response: { 200: AccountJson, ...errorResponses(401, 404, 422) },
      },
      handler: async (req) => {
        const auth = principal(req);
        const { account, ...flat } = req.body;
        return presentAccount(await editAccount(ctx, auth, { ...flat, ...account }));
      },
    });
  }
}
