import { createHash, timingSafeEqual } from 'node:crypto';

import { TOKEN_PROTOCOL_PREFIX } from '../../contract/http.ts';
import { LOOPBACK_HOST } from './loopback.ts';

/**
 * The checks `bulwark serve` applies before anything else, as pure functions of request headers:
 *  - Host must name us (127.0.0.1:<port> or localhost:<port>): a page on evil.example whose DNS answer
 *    was rebound to 127.0.0.1 sends `Host: evil.example:<port>` and is refused;
 *  - Origin, when present, must be exactly our origin: a cross-site page can make the browser send
 *    requests (forms, fetch, WebSocket) but cannot forge Origin;
 *  - every API call and the event socket carry the per-install token, compared in constant time.
 */

/** Throws unless `host` is the loopback address we allow; the message says why. */
export function assertLoopbackHost(host: string): void {
  if (host === LOOPBACK_HOST) return;
  throw new Error(
    `refusing to listen on ${host || '(empty)'}: bulwark serve listens on ${LOOPBACK_HOST} only, ` +
      'because anyone who reaches the port can try the token and the browser UI is not meant for a network',
  );
}

/** `Host` header values that name this server. */
export function allowedHosts(port: number): ReadonlySet<string> {
  return new Set([`${LOOPBACK_HOST}:${port}`, `localhost:${port}`]);
}

/** `Origin` header values of our own page. */
export function allowedOrigins(port: number): ReadonlySet<string> {
  return new Set([`http://${LOOPBACK_HOST}:${port}`, `http://localhost:${port}`]);
}

export function isAllowedHost(host: string | undefined, port: number): boolean {
  return host !== undefined && allowedHosts(port).has(host.toLowerCase());
}

/** No Origin (same-origin GET, a non-browser client) is fine; any Origin other than ours is not. */
export function isAllowedOrigin(origin: string | undefined, port: number): boolean {
  return origin === undefined || allowedOrigins(port).has(origin);
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time comparison (both sides hashed first, so their lengths leak nothing either). */
export function tokenMatches(candidate: string | undefined, token: string): boolean {
  if (candidate === undefined) return false;
  return timingSafeEqual(digest(candidate), digest(token));
}

/** The token of `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization?.trim() ?? '');
  return m?.[1];
}

/** The values a client offered in `Sec-WebSocket-Protocol`. */
export function offeredProtocols(header: string | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/** The token offered as the subprotocol `bulwark.<token>`, or undefined. */
export function protocolToken(header: string | undefined): string | undefined {
  const offered = offeredProtocols(header).find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  return offered?.slice(TOKEN_PROTOCOL_PREFIX.length);
}
