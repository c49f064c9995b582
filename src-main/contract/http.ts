import { z } from 'zod';

import { CHANNEL_PREFIX, isChannelName, type ChannelName } from './ipc.ts';

/**
 * How the contract travels over HTTP and WebSocket (`bulwark serve` on 127.0.0.1): shared by the server
 * (src-main/transport/http) and the renderer's HTTP transport, so both sides derive it from one place.
 *
 *   POST /api/<channel without "bulwark:">   JSON request body → Result envelope (JSON)
 *        Authorization: Bearer <token>, or the session cookie (with our Origin)
 *   GET  /api/events (WebSocket upgrade)     one text frame per event: {"event": "...", "payload": ...}
 *        Sec-WebSocket-Protocol: bulwark, bulwark.<token>   (the server selects "bulwark"; the token
 *        is never echoed back, never put in the URL), or just `bulwark` with the session cookie
 *   POST /api/session                         Authorization: Bearer <token> → the session cookie
 *        (HttpOnly, SameSite=Strict, Path=/): a new tab or a bookmark works without the token
 *   DELETE /api/session                       forgets the session in this browser (signs out)
 *   GET  /, /assets/...                      the built renderer; the page reads the token from its URL
 *        fragment (/#token=...), which browsers never send to the server, and exchanges it for the session
 */

export const API_PREFIX = '/api/';
export const EVENTS_PATH = '/api/events';
/** The subprotocol the server selects for the event socket. */
export const EVENTS_PROTOCOL = 'bulwark';
/** The client offers `bulwark.<token>` next to EVENTS_PROTOCOL to authenticate the upgrade. */
export const TOKEN_PROTOCOL_PREFIX = 'bulwark.';
/** The key of the token in the page URL's fragment: `/#token=...`. */
export const TOKEN_FRAGMENT_KEY = 'token';
/** A service token: 32 random bytes, base64url without padding. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Exchanges the token (as Bearer) for the session cookie; DELETE signs out. */
export const SESSION_PATH = '/api/session';
/** The session cookie's name is this plus the port: two services on one computer keep separate sessions. */
export const SESSION_COOKIE_PREFIX = 'bulwark_session_';
/** What POST /api/session answers (in an ok Result). */
export const sessionSchema = z.object({ expiresAt: z.iso.datetime({ offset: true }) });
export type Session = z.infer<typeof sessionSchema>;

/** `/api/app.version` for `bulwark:app.version`. */
export function apiPath(channel: ChannelName): string {
  return API_PREFIX + channel.slice(CHANNEL_PREFIX.length);
}

/** The channel a request path names, or undefined for a path outside the contract. */
export function channelFromPath(pathname: string): ChannelName | undefined {
  if (!pathname.startsWith(API_PREFIX)) return undefined;
  const name = CHANNEL_PREFIX + pathname.slice(API_PREFIX.length);
  return isChannelName(name) ? name : undefined;
}

/** One WebSocket frame. The payload is checked against the event's schema on both sides. */
export const eventMessageSchema = z.object({ event: z.string(), payload: z.unknown() });
export type EventMessage = z.infer<typeof eventMessageSchema>;
