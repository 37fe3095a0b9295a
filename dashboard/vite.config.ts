import { defineConfig } from 'vite';

/**
 * The dashboard bundle. In development (`npm run dev -w @channelx/dashboard`) /api
 * and /auth are proxied to a server on CHANNELX_URL (http://127.0.0.1:3000 by default), so the page
 * calls the API same-origin.
 */
export default defineConfig({
  // No inline module-preload polyfill: the server's CSP allows same-origin scripts only.
  build: { modulePreload: { polyfill: false } },
  oxc: { jsx: { runtime: 'automatic' } },
  server: {
    proxy: {
      '/api': process.env.CHANNELX_URL ?? 'http://127.0.0.1:3000',
      '/auth': process.env.CHANNELX_URL ?? 'http://127.0.0.1:3000',
    },
  },
});
