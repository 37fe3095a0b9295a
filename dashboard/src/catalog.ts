import { createContext, useCallback, useEffect, useState } from 'react';
import type { ResponseBody } from '@channelx/client';
import { api, errorText, unwrap } from './api.js';
import { useSession } from './session.js';
import { useReconnected } from './live.js';

/**
 * The account's teams, labels and canned responses: their shapes and the calls of the settings
 * screens, the conversation view (team assignment, the label picker, the composer's `/` menu) and
 * the conversation list (the sidebar's labels, the team filter). Every call goes through
 * `@channelx/client`.
 */

type A = '/api/v1/accounts/{account_id}';
export type Team = ResponseBody<`${A}/teams`, 'get'>[number];
export type TeamMember = ResponseBody<`${A}/teams/{team_id}/team_members`, 'get'>[number];
export type Label = ResponseBody<`${A}/labels`, 'get'>['payload'][number];
export type CannedResponse = ResponseBody<`${A}/canned_responses`, 'get'>[number];
type TeamFields = { name: string; description: string; allow_auto_assign: boolean };
type LabelFields = { title: string; description: string; color: string; show_on_sidebar: boolean };
type CannedFields = { short_code: string; content: string };

export const teamsApi = {
  list: (account_id: number) => unwrap(api.GET('/api/v1/accounts/{account_id}/teams', { params: { path: { account_id } } })),
  create: (account_id: number, body: TeamFields) => unwrap(api.POST('/api/v1/accounts/{account_id}/teams', { params: { path: { account_id } }, body })),
  update: (account_id: number, team_id: number, body: TeamFields) =>
    unwrap(api.PATCH('/api/v1/accounts/{account_id}/teams/{team_id}', { params: { path: { account_id, team_id } }, body })),
  remove: (account_id: number, team_id: number) => unwrap(api.DELETE('/api/v1/accounts/{account_id}/teams/{team_id}', { params: { path: { account_id, team_id } } })),
  members: (account_id: number, team_id: number) =>
    unwrap(api.GET('/api/v1/accounts/{account_id}/teams/{team_id}/team_members', { params: { path: { account_id, team_id } } })),
  addMembers: (account_id: number, team_id: number, user_ids: number[]) =>
    unwrap(api.POST('/api/v1/accounts/{account_id}/teams/{team_id}/team_members', { params: { path: { account_id, team_id } }, body: { user_ids } })),
  removeMembers: (account_id: number, team_id: number, user_ids: number[]) =>
    unwrap(api.DELETE('/api/v1/accounts/{account_id}/teams/{team_id}/team_members', { params: { path: { account_id, team_id } }, body: { user_ids } })),
};

export const labelsApi = {
  list: async (account_id: number) => (await unwrap(api.GET('/api/v1/accounts/{account_id}/labels', { params: { path: { account_id } } }))).payload,
  create: (account_id: number, body: LabelFields) => unwrap(api.POST('/api/v1/accounts/{account_id}/labels', { params: { path: { account_id } }, body })),
  update: (account_id: number, id: number, body: LabelFields) => unwrap(api.PATCH('/api/v1/accounts/{account_id}/labels/{id}', { params: { path: { account_id, id } }, body })),
  remove: (account_id: number, id: number) => unwrap(api.DELETE('/api/v1/accounts/{account_id}/labels/{id}', { params: { path: { account_id, id } } })),
};

export const cannedApi = {
  list: (account_id: number, search?: string) =>
    unwrap(api.GET('/api/v1/accounts/{account_id}/canned_responses', { params: { path: { account_id }, query: search ? { search } : {} } })),
  create: (account_id: number, body: CannedFields) => unwrap(api.POST('/api/v1/accounts/{account_id}/canned_responses', { params: { path: { account_id } }, body })),
  update: (account_id: number, id: number, body: CannedFields) =>
    unwrap(api.PATCH('/api/v1/accounts/{account_id}/canned_responses/{id}', { params: { path: { account_id, id } }, body })),
  remove: (account_id: number, id: number) => unwrap(api.DELETE('/api/v1/accounts/{account_id}/canned_responses/{id}', { params: { path: { account_id, id } } })),
};

export type Loaded<T> = { data: T | null; error: string | null; reload: () => Promise<void> };

/** A list fetched on mount, by `reload` and after the live connection comes back; the previous data stays while a reload runs. */
export function useLoaded<T>(fetcher: (accountId: number) => Promise<T>, deps: unknown[] = []): Loaded<T> & { set: (f: (d: T | null) => T | null) => void } {
  const { accountId } = useSession();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const reload = useCallback(async () => {
    try {
      setData(await fetcher(accountId));
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  }, [accountId, ...deps]);
  useEffect(() => void reload(), [reload]);
  useReconnected(() => void reload());
  return { data, error, reload, set: setData };
}

/** A readable text colour (black or white) on a label's `#RRGGBB` background. */
export function textOn(color: string): string {
  const m = /^#?([0-9a-f]{6})$/i.exec(color);
  if (!m) return 'var(--text)';
  const n = parseInt(m[1]!, 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  const lum = 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  return lum > 0.179 ? '#111111' : '#ffffff';
}

export const isHexColor = (c: string) => /^#[0-9a-fA-F]{6}$/.test(c);

/** The account labels' colours by lowercased title, for label chips far from the settings (list rows). */
export const LabelColors = createContext<ReadonlyMap<string, string>>(new Map());
