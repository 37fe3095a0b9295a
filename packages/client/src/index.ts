/**
 * @channelx/client: the typed client of the ChannelX Application API, client API and /cable.
 * Types come from openapi/channelx.json (src/generated/api.ts, `npm run openapi`); this package
 * never imports server code. Works in browsers and in Node >= 20 (pass `WebSocket` from `ws` on
 * Node 20, which has no global one).
 */
export * from './http.js';
export * from './cable.js';
export type * from './types.js';
