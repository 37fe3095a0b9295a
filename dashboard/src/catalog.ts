import { useCallback, useEffect, useState } from 'react';
import { api, errorText, unwrap } from './api.js';
import { useSession } from './session.js';

/**
 * The account's teams, labels and canned responses: their shapes and the calls of the settings
 * screens, the conversation view (team assignment, the label picker, the composer's `/` menu) and
 * the conversation list (the sidebar's labels, the team filter). Every call goes through
 * `@channelx/client`.
 */

export type Team = { id: number; name: string; description: string | null; allow_auto_assign: boolean; account_id?: number; is_member?: boolean };
export type TeamMember = { id: number; name: string; available_name?: string | null; email: string; role?: string; confirmed?: boolean };
export type Label = { id: number; title: string; description: string | null; color: string; show_on_sidebar: boolean };
export type CannedResponse = { id: number; short_code: string; content: string };

// Until the teams / labels / canned responses routes are in the OpenAPI document, their paths are
// called through the same client without path types.
type Loose = {
  GET(path: string, init: unknown): Promise<{ data?: unknown; error?: unknown; response: Response }>;
  POST(path: string, init: unknown): Promise<{ data?: unknown; error?: unknown; response: Response }>;
  PATCH(path: string, init: unknown): Promise<{ data?: unknown; error?: unknown; response: Response }>;
  DELETE(path: string, init: unknown): Promise<{ data?: unknown; error?: unknown; response: Response }>;
};
const loose = api as unknown as Loose;
const A = '/api/v1/accounts/{account_id}';

export const teamsApi = {
  list: (account_id: number) => unwrap(loose.GET(`${A}/teams`, { params: { path: { account_id } } })) as Promise<Team[]>,
  create: (account_id: number, body: { name: string; description: string; allow_auto_assign: boolean }) =>
    unwrap(loose.POST(`${A}/teams`, { params: { path: { account_id } }, body })) as Promise<Team>,
  update: (account_id: number, id: number, body: { name: string; description: string; allow_auto_assign: boolean }) =>
    unwrap(loose.PATCH(`${A}/teams/{team_id}`, { params: { path: { account_id, team_id: id, id } }, body })) as Promise<Team>,
  remove: (account_id: number, id: number) => unwrap(loose.DELETE(`${A}/teams/{team_id}`, { params: { path: { account_id, team_id: id, id } } })),
  members: (account_id: number, team_id: number) => unwrap(loose.GET(`${A}/teams/{team_id}/team_members`, { params: { path: { account_id, team_id } } })) as Promise<TeamMember[]>,
  addMembers: (account_id: number, team_id: number, user_ids: number[]) =>
    unwrap(loose.POST(`${A}/teams/{team_id}/team_members`, { params: { path: { account_id, team_id } }, body: { user_ids } })),
  removeMembers: (account_id: number, team_id: number, user_ids: number[]) =>
    unwrap(loose.DELETE(`${A}/teams/{team_id}/team_members`, { params: { path: { account_id, team_id } }, body: { user_ids } })),
};

export const labelsApi = {
  list: async (account_id: number) => ((await unwrap(loose.GET(`${A}/labels`, { params: { path: { account_id } } }))) as { payload: Label[] }).payload,
  create: (account_id: number, body: Omit<Label, 'id'>) => unwrap(loose.POST(`${A}/labels`, { params: { path: { account_id } }, body })) as Promise<Label>,
  update: (account_id: number, id: number, body: Omit<Label, 'id'>) => unwrap(loose.PATCH(`${A}/labels/{id}`, { params: { path: { account_id, id } }, body })) as Promise<Label>,
  remove: (account_id: number, id: number) => unwrap(loose.DELETE(`${A}/labels/{id}`, { params: { path: { account_id, id } } })),
};

export const cannedApi = {
  list: (account_id: number, search?: string) =>
    unwrap(loose.GET(`${A}/canned_responses`, { params: { path: { account_id }, query: search ? { search } : {} } })) as Promise<CannedResponse[]>,
  create: (account_id: number, body: { short_code: string; content: string }) =>
    unwrap(loose.POST(`${A}/canned_responses`, { params: { path: { account_id } }, body })) as Promise<CannedResponse>,
  update: (account_id: number, id: number, body: { short_code: string; content: string }) =>
    unwrap(loose.PATCH(`${A}/canned_responses/{id}`, { params: { path: { account_id, id } }, body })) as Promise<CannedResponse>,
  remove: (account_id: number, id: number) => unwrap(loose.DELETE(`${A}/canned_responses/{id}`, { params: { path: { account_id, id } } })),
};

export type Loaded<T> = { data: T | null; error: string | null; reload: () => Promise<void> };

/** A list fetched on mount (and by `reload`); the previous data stays while a reload runs. */
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
