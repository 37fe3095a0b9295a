import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { selectProtocol } from './protocol.js';

/**
 * `GET /cable`: the ActionCable endpoint. The per-IP cap and shutdown are checked before the
 * upgrade (HTTP 429 / 503), everything else happens on the socket (src/realtime/hub.ts).
 */
export async function register(app: TypedApp, ctx: AppContext) {
  const rt = ctx.realtime;
  // Negotiate actioncable-v1-json / actioncable-v1.1-json (ws would otherwise pick the client's first offer).
  const wss = (app as unknown as { websocketServer?: { options: { handleProtocols?: unknown } } }).websocketServer;
  if (wss) wss.options.handleProtocols = selectProtocol;

  app.get(
    '/cable',
    {
      config: { access: 'public' },
      websocket: true,
      schema: { hide: true },
      preValidation: async (req, reply) => {
        if (rt.hub.isClosing) return reply.code(503).send({ error: 'Server is restarting' });
        if (!rt.hub.admits(req.ip)) return reply.code(429).send({ error: 'Too many connections from this address' });
      },
    },
    (socket, req) => rt.hub.accept(socket, req.ip),
  );
  // The sockets go with the listener; pub/sub closes with the realtime worker, after the outbox drained.
  app.addHook('onClose', async () => rt.closeSockets());
}
