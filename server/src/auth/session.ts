import type { FastifyReply } from 'fastify';
import type { Config } from '../config.js';
import { SESSION_COOKIE, SESSION_TTL_MS } from '../kernel/auth.js';

/** The dashboard session cookie: HttpOnly, SameSite=Lax, Secure when the public URL is https. */
export function setSessionCookie(reply: FastifyReply, config: Config, token: string) {
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: config.cookieSecure,
    path: '/',
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
}

export function clearSessionCookie(reply: FastifyReply, config: Config) {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: config.cookieSecure, path: '/' });
}
