import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

import { SESSION_COOKIE_PREFIX } from '../../contract/http.ts';

/**
 * The browser session of `bulwark serve`: the page exchanges the install token (from the link's fragment,
 * or pasted on the sign-in page) once for an HttpOnly, SameSite=Strict cookie, so a new tab or a bookmark
 * works without the token.
 *
 * The cookie is not a random id kept by the service but `<issued>.<HMAC-SHA256(install token, issued)>`:
 *  - it survives a restart of the service (nothing to store, nothing to lose), like the token itself;
 *  - it is not the token: page scripts cannot read it (HttpOnly) and it cannot be used as a Bearer token;
 *  - replacing the token (deleting <config>/service-token) ends every session at once, and a session ends
 *    by itself SESSION_MAX_AGE_S after it was issued unless it is used (each use after a day renews it).
 * What it cannot do: end one browser's session alone (DELETE /api/session only forgets it in that browser).
 */

/** Browsers cap a cookie's lifetime at 400 days. */
export const SESSION_MAX_AGE_S = 400 * 24 * 3600;
/** A session older than this is renewed by the next call that uses it (sliding expiry). */
export const SESSION_RENEW_AFTER_S = 24 * 3600;
/** Clocks of one computer agree; this only tolerates a clock set back a little. */
const FUTURE_SKEW_S = 300;
const CONTEXT = 'bulwark-session-v1';

export const sessionCookieName = (port: number): string => `${SESSION_COOKIE_PREFIX}${port}`;

const mac = (token: string, issued: number): string =>
  createHmac('sha256', token).update(`${CONTEXT}:${issued}`).digest('base64url');

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export interface IssuedSession {
  value: string;
  expiresAt: number;
}

export function issueSession(token: string, nowMs: number): IssuedSession {
  const issued = Math.floor(nowMs / 1000);
  return { value: `${issued}.${mac(token, issued)}`, expiresAt: (issued + SESSION_MAX_AGE_S) * 1000 };
}

/** When a valid session value was issued (seconds), or undefined for anything else. */
export function sessionIssuedAt(value: string | undefined, token: string, nowMs: number): number | undefined {
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
  if (!m?.[1] || !m[2]) return undefined;
  const issued = Number(m[1]);
  const now = nowMs / 1000;
  if (issued > now + FUTURE_SKEW_S || now - issued >= SESSION_MAX_AGE_S) return undefined;
  // constant time, both sides hashed first so their lengths leak nothing either
  return timingSafeEqual(digest(m[2]), digest(mac(token, issued))) ? issued : undefined;
}

/** The values of the cookie `name` in a Cookie header (a browser may send several). */
export function cookieValues(header: string | undefined, name: string): string[] {
  const out: string[] = [];
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) out.push(part.slice(eq + 1).trim());
  }
  return out;
}

/** Path=/ (the API and the event socket), HttpOnly (no page script reads it), SameSite=Strict. */
export function sessionCookie(name: string, value: string): string {
  return `${name}=${value}; Path=/; Max-Age=${SESSION_MAX_AGE_S}; HttpOnly; SameSite=Strict`;
}

export function clearedSessionCookie(name: string): string {
  return `${name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict`;
}
