import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { AccountParams, errorResponses } from '../accounts/schemas.js';
import { listDeadEvents, PAGE_SIZE } from './repository.js';
import { presentDeadEventPage } from './presenter.js';
import { DeadEventPageResponse, DeadEventQuery } from './schemas.js';

const tags = ['Outbox'];

/** Dead outbox events of the account (events a listener skipped after bounded retries). Administrators only. */
export async function register(app: TypedApp, ctx: AppContext) {
  app.get(
    '/api/v1/accounts/:account_id/dead_events',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        summary: 'Events of this account that a listener (webhooks, real-time) could not process and skipped (25 per page, newest first)',
        params: AccountParams,
        querystring: DeadEventQuery,
        response: { 200: DeadEventPageResponse, ...errorResponses(401, 404, 422) },
      },
    },
    async (req) => {
      const page = req.query.page ?? 1;
      const { rows, count } = await listDeadEvents(ctx.database.db, req.params.account_id, page);
      return presentDeadEventPage(rows, count, page, PAGE_SIZE);
    },
  );
}
