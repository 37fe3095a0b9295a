import type { components, paths } from './generated/api.js';

/**
 * Names for the generated types (src/generated/api.ts, from openapi/channelx.json): request bodies,
 * responses and the /cable events. Nothing here is written by hand but the mapping.
 */

export type { components, paths };

type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';
type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;

/** The JSON request body of an operation. */
export type RequestBody<P extends keyof paths, M extends Method> =
  Op<P, M> extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;

/** The JSON body of an operation's 200 response. */
export type ResponseBody<P extends keyof paths, M extends Method> =
  Op<P, M> extends { responses: { 200: { content: { 'application/json': infer R } } } } ? R : never;

/** The error body every 4xx answer carries (`{error, message?, attributes?}`). */
export type ErrorBody = { error: string; message?: string; attributes?: string[]; [key: string]: unknown };

/** One /cable RoomChannel message: `{event, data}`, discriminated by `event`. */
export type CableEnvelope = components['schemas']['CableEnvelope'];
/** Socket event name → its data. */
export type CableEventMap = { [E in CableEnvelope as E['event']]: E['data'] };
export type CableEventName = keyof CableEventMap;
