import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer, type TestUser } from '../support/harness.js';

/**
 * Issue 12, inboxes against the reference: working_hours and working_hours_enabled stored and
 * returned, DELETE's `{message}` body, and a top-level hmac_mandatory that works as channel.hmac_mandatory.
 */
describeEachDb('inboxes parity', (dialect) => {
  let h: TestServer;
  let accountId: number;
  let admin: TestUser;
  let agent: TestUser;

  beforeAll(async () => {
    h = await startTestServer(dialect);
    ({ accountId, admin } = await h.account());
    agent = await h.user(accountId);
  });
  afterAll(() => h.close());

  const base = () => `/api/v1/accounts/${accountId}/inboxes`;
  const create = async (body: Record<string, unknown> = {}) => {
    const r = await h.api('POST', base(), { token: admin.token, body: { name: 'Parity', channel: { type: 'api' }, ...body } });
    expect(r.status, r.text).toBe(200);
    return r.body;
  };
  const patch = (id: number, body: unknown, token = admin.token) => h.api('PATCH', `${base()}/${id}`, { token, body });
  const day = (week: any[], d: number) => week.find((w) => w.day_of_week === d);

  describe('working hours', () => {
    it("a new inbox has the reference's default week: Monday to Friday 9:00-17:00, closed at the weekend", async () => {
      const inbox = await create();
      expect(inbox.working_hours_enabled).toBe(false);
      expect(inbox.working_hours).toHaveLength(7);
      expect(inbox.working_hours.map((w: any) => w.day_of_week)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(day(inbox.working_hours, 0)).toEqual({ day_of_week: 0, closed_all_day: true, open_hour: null, open_minutes: null, close_hour: null, close_minutes: null, open_all_day: false });
      expect(day(inbox.working_hours, 3)).toEqual({ day_of_week: 3, closed_all_day: false, open_hour: 9, open_minutes: 0, close_hour: 17, close_minutes: 0, open_all_day: false });
    });

    it('PATCH stores working_hours_enabled and the days sent (the others stay); GET, the list, the agent view and the client API return them', async () => {
      const inbox = await create();
      const r = await patch(inbox.id, {
        working_hours_enabled: true,
        timezone: 'Europe/Berlin',
        working_hours: [
          { day_of_week: 1, open_hour: 8, open_minutes: 30, close_hour: 12, close_minutes: 15 },
          { day_of_week: 6, closed_all_day: false, open_hour: 10, open_minutes: 0, close_hour: 14, close_minutes: 0 },
          { day_of_week: 0, open_all_day: true, closed_all_day: false },
        ],
      });
      expect(r.status, r.text).toBe(200);
      expect(r.body.working_hours_enabled).toBe(true);
      expect(day(r.body.working_hours, 1)).toMatchObject({ closed_all_day: false, open_hour: 8, open_minutes: 30, close_hour: 12, close_minutes: 15 });
      expect(day(r.body.working_hours, 6)).toMatchObject({ closed_all_day: false, open_hour: 10, close_hour: 14 });
      expect(day(r.body.working_hours, 0)).toMatchObject({ open_all_day: true, closed_all_day: false, open_hour: 0, open_minutes: 0, close_hour: 23, close_minutes: 59 });
      expect(day(r.body.working_hours, 2)).toMatchObject({ open_hour: 9, close_hour: 17 });

      // A later PATCH of one day keeps the rest; a PATCH without working_hours keeps them all.
      expect((await patch(inbox.id, { working_hours: [{ day_of_week: 2, close_hour: 18 }] })).status).toBe(200);
      expect((await patch(inbox.id, { name: 'Renamed' })).status).toBe(200);
      const shown = await h.api('GET', `${base()}/${inbox.id}`, { token: admin.token });
      expect(shown.body.name).toBe('Renamed');
      expect(day(shown.body.working_hours, 2)).toMatchObject({ open_hour: 9, close_hour: 18 });
      expect(day(shown.body.working_hours, 1)).toMatchObject({ open_hour: 8, close_hour: 12 });
      const listed = (await h.api('GET', base(), { token: admin.token })).body.payload.find((i: any) => i.id === inbox.id);
      expect(listed.working_hours).toEqual(shown.body.working_hours);

      await h.api('POST', `/api/v1/accounts/${accountId}/inbox_members`, { token: admin.token, body: { inbox_id: inbox.id, user_ids: [agent.id] } });
      const asAgent = await h.api('GET', `${base()}/${inbox.id}`, { token: agent.token });
      expect(asAgent.body.working_hours).toEqual(shown.body.working_hours);

      const pub = await h.api('GET', `/public/api/v1/inboxes/${inbox.inbox_identifier}`);
      expect(pub.status).toBe(200);
      expect(pub.body).toMatchObject({ working_hours_enabled: true, timezone: 'Europe/Berlin' });
      expect(pub.body.working_hours).toEqual(shown.body.working_hours);

      // Turning the flag off keeps the week.
      const off = await patch(inbox.id, { working_hours_enabled: 'false' });
      expect(off.body.working_hours_enabled).toBe(false);
      expect(off.body.working_hours).toEqual(shown.body.working_hours);
    });

    it('accepts working_hours on create too', async () => {
      const inbox = await create({ working_hours_enabled: true, working_hours: [{ day_of_week: 5, closed_all_day: true }] });
      expect(inbox.working_hours_enabled).toBe(true);
      expect(day(inbox.working_hours, 5)).toMatchObject({ closed_all_day: true });
    });

    it('422 for an impossible day, and nothing changes', async () => {
      const inbox = await create();
      const bad = async (working_hours: unknown, pattern: RegExp) => {
        const r = await patch(inbox.id, { name: 'Should not apply', working_hours });
        expect(r.status, JSON.stringify(working_hours)).toBe(422);
        expect(JSON.stringify(r.body)).toMatch(pattern);
      };
      await bad([{ day_of_week: 1, open_hour: 17, close_hour: 9 }], /Closing time cannot be before opening time/);
      await bad([{ day_of_week: 2, open_all_day: true, closed_all_day: true }], /cannot be true at the same time/);
      await bad([{ day_of_week: 0, closed_all_day: false }], /required unless closed_all_day/);
      await bad([{ day_of_week: 7, closed_all_day: true }], /day_of_week/);
      await bad([{ day_of_week: 1, open_hour: 24 }], /open_hour/);
      await bad([{ day_of_week: 1, open_minutes: 60 }], /open_minutes/);
      await bad([{ open_hour: 9 }], /day_of_week/);
      await bad('9-5', /working_hours/);
      await bad(Array.from({ length: 8 }, (_, d) => ({ day_of_week: d % 7, closed_all_day: true })), /working_hours/);
      const shown = await h.api('GET', `${base()}/${inbox.id}`, { token: admin.token });
      expect(shown.body.name).toBe('Parity');
      expect(day(shown.body.working_hours, 1)).toMatchObject({ open_hour: 9, close_hour: 17 });
      // Agents cannot change them (administrator route: 401).
      expect((await patch(inbox.id, { working_hours: [{ day_of_week: 1, closed_all_day: true }] }, agent.token)).status).toBe(401);
    });
  });

  describe('hmac_mandatory at the top level', () => {
    it('PATCH {hmac_mandatory} works as channel.hmac_mandatory (which wins when both are sent); POST too', async () => {
      const inbox = await create();
      expect(inbox.hmac_mandatory).toBe(false);
      const on = await patch(inbox.id, { hmac_mandatory: true });
      expect(on.status).toBe(200);
      expect(on.body.hmac_mandatory).toBe(true);
      expect((await h.api('GET', `/public/api/v1/inboxes/${inbox.inbox_identifier}`)).body.identity_validation_enabled).toBe(true);
      // The client API now demands identifier_hash.
      const anon = await h.api('POST', `/public/api/v1/inboxes/${inbox.inbox_identifier}/contacts`, { body: { name: 'Anon' } });
      expect(anon.status).toBeGreaterThanOrEqual(400);
      expect(anon.status).toBeLessThan(500);
      expect((await patch(inbox.id, { hmac_mandatory: 'false' })).body.hmac_mandatory).toBe(false);
      expect((await patch(inbox.id, { hmac_mandatory: false, channel: { hmac_mandatory: true } })).body.hmac_mandatory).toBe(true);
      expect((await create({ hmac_mandatory: true })).hmac_mandatory).toBe(true);
      expect((await patch(inbox.id, { hmac_mandatory: 'maybe' })).status).toBe(422);
    });
  });

  describe('DELETE /inboxes/:id', () => {
    it("answers the reference's {message}; 404 after, 401 for agents", async () => {
      const inbox = await create();
      expect((await h.api('DELETE', `${base()}/${inbox.id}`, { token: agent.token })).status).toBe(401);
      const r = await h.api('DELETE', `${base()}/${inbox.id}`, { token: admin.token });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ message: 'Your inbox deletion request will be processed in some time.' });
      expect((await h.api('GET', `${base()}/${inbox.id}`, { token: admin.token })).status).toBe(404);
      expect((await h.api('DELETE', `${base()}/${inbox.id}`, { token: admin.token })).status).toBe(404);
    });
  });
});

