import { ChannelxError, createApplicationClient, unwrap, type Profile } from '@channelx/client';

/** The one API client: same origin, authenticated by the HttpOnly session cookie. */
export const api = createApplicationClient({ baseUrl: window.location.origin, credentials: 'same-origin' });
export { unwrap, ChannelxError };
export type { Profile };

/** A message fit for the page from any failure. */
export function errorText(err: unknown): string {
  if (err instanceof ChannelxError) {
    if (err.status === 429) return 'Too many attempts. Wait a few minutes and try again.';
    return err.message || `The server answered ${err.status}.`;
  }
  return 'The server could not be reached. Check your connection and try again.';
}

export const isStatus = (err: unknown, status: number) => err instanceof ChannelxError && err.status === status;
