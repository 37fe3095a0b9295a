import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './generated/api.js';
import type { ErrorBody, RequestBody, ResponseBody } from './types.js';

/** A 4xx/5xx answer: its status and its `{error, message?, attributes?}` body. */
export class ChannelxError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | null,
  ) {
    super(body?.message ?? body?.error ?? `HTTP ${status}`);
    this.name = 'ChannelxError';
  }
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/** The body of a successful answer, or a ChannelxError. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ChannelxError(response.status, (error as ErrorBody | undefined) ?? null);
  return data as T;
}

type Common = {
  /** e.g. https://chat.example.com (no trailing /api). */
  baseUrl: string;
  /** Another fetch (tests, server-side rendering); the global one by default. */
  fetch?: typeof fetch;
};

export type ApplicationClientOptions = Common & {
  /** The user's api_access_token; omit it in the dashboard, which signs in with the session cookie. */
  token?: string;
  /** `include` sends the session cookie cross-origin; `same-origin` (the default) when served by the server. */
  credentials?: 'include' | 'same-origin' | 'omit';
};

/** The typed Application API: `api.GET('/api/v1/profile')`, `api.POST('/api/v1/accounts/{account_id}/contacts', …)`. */
export type ApplicationClient = Client<paths>;

export function createApplicationClient(opts: ApplicationClientOptions): ApplicationClient {
  return createClient<paths>({
    baseUrl: opts.baseUrl,
    fetch: opts.fetch,
    credentials: opts.credentials,
    headers: opts.token ? { api_access_token: opts.token } : undefined,
  });
}

const INBOX = '/public/api/v1/inboxes/{inbox_identifier}';
const CONTACTS = `${INBOX}/contacts` as const;
const CONTACT = `${CONTACTS}/{contact_identifier}` as const;
const CONVERSATIONS = `${CONTACT}/conversations` as const;
const CONVERSATION = `${CONVERSATIONS}/{conversation_id}` as const;
const MESSAGES = `${CONVERSATION}/messages` as const;

export type ClientApiOptions = Common & {
  /** The API inbox's inbox_identifier. */
  inboxIdentifier: string;
};

/** The client API (no token: the inbox identifier and the contact's source_id are the capability). */
export function createClientApi(opts: ClientApiOptions) {
  const http = createClient<paths>({ baseUrl: opts.baseUrl, fetch: opts.fetch });
  const inbox_identifier = opts.inboxIdentifier;
  return {
    http,
    inbox: () => unwrap(http.GET(INBOX, { params: { path: { inbox_identifier } } })),
    /** Creates a contact and its session; keep `source_id` (and `pubsub_token` for /cable). */
    createContact: (body: RequestBody<typeof CONTACTS, 'post'> = {}) =>
      unwrap(http.POST(CONTACTS, { params: { path: { inbox_identifier } }, body })),
    /** The calls of one contact session (its source_id). */
    session: (sourceId: string) => clientSession(http, inbox_identifier, sourceId),
  };
}
export type ClientApi = ReturnType<typeof createClientApi>;

function clientSession(http: Client<paths>, inbox_identifier: string, contact_identifier: string) {
  const path = { inbox_identifier, contact_identifier };
  const at = (conversation_id: number) => ({ path: { ...path, conversation_id } });
  return {
    sourceId: contact_identifier,
    contact: () => unwrap(http.GET(CONTACT, { params: { path } })),
    updateContact: (body: RequestBody<typeof CONTACT, 'patch'>) => unwrap(http.PATCH(CONTACT, { params: { path }, body })),
    conversations: () => unwrap(http.GET(CONVERSATIONS, { params: { path } })),
    createConversation: (body: RequestBody<typeof CONVERSATIONS, 'post'> = {}) =>
      unwrap(http.POST(CONVERSATIONS, { params: { path }, body })),
    conversation: (id: number) => unwrap(http.GET(CONVERSATION, { params: at(id) })),
    messages: (id: number, query?: { before?: number }) =>
      unwrap(http.GET(MESSAGES, { params: { ...at(id), query } })),
    sendMessage: (id: number, body: RequestBody<typeof MESSAGES, 'post'>) => unwrap(http.POST(MESSAGES, { params: at(id), body })),
    toggleStatus: (id: number) => unwrap(http.POST(`${CONVERSATION}/toggle_status`, { params: at(id), body: {} })),
    toggleTyping: (id: number, typing_status: 'on' | 'off') =>
      unwrap(http.POST(`${CONVERSATION}/toggle_typing`, { params: at(id), body: { typing_status } })),
    updateLastSeen: (id: number) => unwrap(http.POST(`${CONVERSATION}/update_last_seen`, { params: at(id), body: {} })),
  };
}
export type ClientSession = ReturnType<typeof clientSession>;

/** Response types by name, for code that keeps them (e.g. a dashboard's state). */
export type Profile = ResponseBody<'/api/v1/profile', 'get'>;
export type PublicContact = ResponseBody<typeof CONTACTS, 'post'>;
export type PublicConversation = ResponseBody<typeof CONVERSATIONS, 'post'>;
export type PublicMessage = ResponseBody<typeof MESSAGES, 'post'>;
