import type { Client, ClientPathsWithMethod, MethodResponse } from 'openapi-fetch';
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

/** The JSON body of an operation's success response, as the client's calls return it. */
export type ResponseBody<P extends keyof paths, M extends Method> =
  P extends ClientPathsWithMethod<Client<paths>, M> ? MethodResponse<Client<paths>, M, P> : never;

/** The error body every 4xx answer carries (`{error, message?, attributes?}`). */
export type ErrorBody = { error: string; message?: string; attributes?: string[]; [key: string]: unknown };

/** One /cable RoomChannel message: `{event, data}`, discriminated by `event`. */
export type CableEnvelope = components['schemas']['CableEnvelope'];
/** Socket event name → its data. */
export type CableEventMap = { [E in CableEnvelope as E['event']]: E['data'] };
export type CableEventName = keyof CableEventMap;
