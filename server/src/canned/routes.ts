import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { principal } from '../accounts/guard.js';
import { EmptyOk, errorResponses } from '../accounts/schemas.js';
import { presentCanned, presentCannedList } from './presenter.js';
import * as service from './service.js';
import { AccountIdParams, AccountParams, CannedBody, CannedJson, CannedList, CannedQuery } from './schemas.js';

const BASE = '/api/v1/accounts/:account_id/canned_responses';
const ONE = `${BASE}/:id`;
const tags = ['Canned Responses'];

/** Canned responses: members list and create them, administrators change and delete them. */
export async function register(app: TypedApp, ctx: AppContext) {
  app.get(
    BASE,
    {
      config: { access: 'member' },
      schema: {
        tags,
        summary: "List the account's canned responses (a bare array); search matches short_code and content",
        params: AccountParams,
        querystring: CannedQuery,
        response: { 200: CannedList, ...errorResponses(401, 404, 422) },
      },
    },
    async (req) => presentCannedList(await service.listCanned(ctx, principal(req), req.query.search)),
  );

  app.post(
    BASE,
    {
      config: { access: 'member' },
      schema: {
        tags,
        summary: 'Create a canned response (any member): short_code (unique per account) and content',
        params: AccountParams,
        body: CannedBody,
        response: { 200: CannedJson, ...errorResponses(401, 404, 422) },
      },
    },
    async (req) => presentCanned(await service.createCanned(ctx, principal(req), req.body)),
  );

  for (const method of ['patch', 'put'] as const) {
    app[method](
      ONE,
      {
        config: { access: 'administrator' },
        schema: {
          tags,
          summary: 'Update a canned response (administrators)',
          params: AccountIdParams,
          body: CannedBody,
          response: { 200: CannedJson, ...errorResponses(401, 404, 422) },
        },
      },
      async (req) => presentCanned(await service.updateCanned(ctx, principal(req), req.params.id, req.body)),
    );
  }

  app.delete(
    ONE,
    {
      config: { access: 'administrator' },
      schema: { tags, summary: 'Delete a canned response (administrators); 200 with an empty body', params: AccountIdParams, response: { 200: EmptyOk, ...errorResponses(401, 404) } },
    },
    async (req, reply) => {
      await service.deleteCanned(ctx, principal(req), req.params.id);
      return reply.status(200).send();
    },
  );
}
