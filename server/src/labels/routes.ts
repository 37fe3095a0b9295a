import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { principal } from '../accounts/guard.js';
import { EmptyOk, errorResponses } from '../accounts/schemas.js';
import { presentLabel, presentLabelList } from './presenter.js';
import * as service from './service.js';
import { AccountIdParams, AccountParams, LabelBody, LabelJson, LabelListResponse } from './schemas.js';

const BASE = '/api/v1/accounts/:account_id/labels';
const ONE = `${BASE}/:id`;
const tags = ['Labels'];

/** Account labels: every member reads them, administrators change them. */
export async function register(app: TypedApp, ctx: AppContext) {
  app.get(
    BASE,
    {
      config: { access: 'member' },
      schema: {
        tags,
        summary: "List the account's labels ({payload}, by title)",
        description: 'Open and unread conversation counts per label, for a sidebar, are in `meta.labels` of GET /conversations/meta (a ChannelX extension).',
        params: AccountParams,
        response: { 200: LabelListResponse, ...errorResponses(401, 404) },
      },
    },
    async (req) => presentLabelList(await service.listLabels(ctx, principal(req))),
  );

  app.post(
    BASE,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        summary: 'Create a label (administrators): title (letters, digits, - and _; lowercased, unique), description, color (#RRGGBB), show_on_sidebar',
        params: AccountParams,
        body: LabelBody,
        response: { 200: LabelJson, ...errorResponses(401, 404, 422) },
      },
    },
    async (req) => presentLabel(await service.createLabel(ctx, principal(req), req.body)),
  );

  app.get(
    ONE,
    { config: { access: 'member' }, schema: { tags, summary: 'Show a label', params: AccountIdParams, response: { 200: LabelJson, ...errorResponses(401, 404) } } },
    async (req) => presentLabel(await service.getLabel(ctx, principal(req), req.params.id)),
  );

  for (const method of ['patch', 'put'] as const) {
    app[method](
      ONE,
      {
        config: { access: 'administrator' },
        schema: {
          tags,
          summary: 'Update a label (administrators); a new title is renamed on the conversations and contacts that carry the old one',
          params: AccountIdParams,
          body: LabelBody,
          response: { 200: LabelJson, ...errorResponses(401, 404, 422) },
        },
      },
      async (req) => presentLabel(await service.updateLabel(ctx, principal(req), req.params.id, req.body)),
    );
  }

  app.delete(
    ONE,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        summary: 'Delete a label (administrators); 200 with an empty body',
        description: 'As in the reference, conversations and contacts keep the title they carry.',
        params: AccountIdParams,
        response: { 200: EmptyOk, ...errorResponses(401, 404) },
      },
    },
    async (req, reply) => {
      await service.deleteLabel(ctx, principal(req), req.params.id);
      return reply.status(200).send();
    },
  );
}
