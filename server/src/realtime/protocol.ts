import { parseJsonOrNull } from '../kernel/json-limits.js';

/**
 * The ActionCable JSON wire protocol (rails/rails actioncable `internal.js`): sub-protocol
 * negotiation, the frames the server sends, and parsing of client commands. Pure functions, no I/O,
 * and total: they never throw. Client JSON (the frame, the identifier and the data inside it) is held
 * to the request shape limits (src/kernel/json-limits.ts); past them it is malformed.
 */

export const SUPPORTED_PROTOCOLS = ['actioncable-v1-json', 'actioncable-v1.1-json'] as const;

/** Picks the first protocol in the client's order that we speak; false when it offers none of ours. */
export function selectProtocol(offered: Set<string>): string | false {
  for (const p of offered) if ((SUPPORTED_PROTOCOLS as readonly string[]).includes(p)) return p;
  return false;
}

export type DisconnectReason = 'unauthorized' | 'invalid_request' | 'server_restart' | 'remote' | 'too_many_connections' | 'slow_consumer';

export const WELCOME = '{"type":"welcome"}';

export const pingFrame = (unixSeconds: number) => `{"type":"ping","message":${unixSeconds}}`;

export const confirmFrame = (identifier: string) => `{"identifier":${JSON.stringify(identifier)},"type":"confirm_subscription"}`;

export const rejectFrame = (identifier: string) => `{"identifier":${JSON.stringify(identifier)},"type":"reject_subscription"}`;

export const disconnectFrame = (reason: DisconnectReason, reconnect: boolean) =>
  `{"type":"disconnect","reason":"${reason}","reconnect":${reconnect}}`;

/**
 * `{identifier, message}`: `idJson` is JSON.stringify(identifier) (kept per subscription), `body` the
 * already-serialized `{event, data}` object, shared by every recipient of the event.
 */
export const messageFrame = (idJson: string, body: string) => '{"identifier":' + idJson + ',"message":' + body + '}';

/** Serializes the `message` part once per event; every recipient's frame embeds the same string. */
export const messageBody = (event: string, data: unknown) => JSON.stringify({ event, data });

export type Command =
  | { command: 'subscribe'; identifier: string }
  | { command: 'unsubscribe'; identifier: string }
  | { command: 'message'; identifier: string; data: string };

/** A client frame as a command, or null when it is not one (such frames are ignored, as Rails does). */
export function parseCommand(raw: string): Command | null {
  const frame = parseJsonOrNull(raw);
  if (!frame || typeof frame !== 'object' || Array.isArray(frame)) return null;
  const { command, identifier, data } = frame as Record<string, unknown>;
  if (typeof identifier !== 'string' || identifier.length === 0) return null;
  if (command === 'subscribe' || command === 'unsubscribe') return { command, identifier };
  if (command === 'message' && typeof data === 'string') return { command, identifier, data };
  return null;
}

/** The identifier's params (`{channel, pubsub_token, …}`), or null when it is not a JSON object within the limits (the subscription is rejected). */
export function parseIdentifier(identifier: string): Record<string, unknown> | null {
  const v = parseJsonOrNull(identifier);
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** A `message` command's data as an object (`{"action": …, …}`), or null. */
export const parseData = (data: string): Record<string, unknown> | null => parseIdentifier(data);

/** The `action` of a `message` command's data (`{"action":"update_presence"}`), or null. */
export function parseAction(data: string): string | null {
  const v = parseIdentifier(data);
  return v && typeof v.action === 'string' ? v.action : null;
}
