import { z } from 'zod';

import { CHANNEL_PREFIX, isChannelName, type ChannelName } from './ipc.ts';

/**
 * How the contract travels over HTTP and WebSocket (`bulwark serve` on 127.0.0.1): shared by the server
 * (src-main/transport/http) and the renderer's HTTP transport, so both sides derive it from one place.
 *
 *   POST /api/<channel without "bulwark:">   JSON request body → Result envelope (JSON)
 *        Authorization: Bearer <token>
 *   GET  /api/events (WebSocket upgrade)     one text frame per event: {"event": "...", "payload": ...}
 *        Sec-WebSocket-Protocol: bulwark, bulwark.<token>   (the server selects "bulwark"; the token
 *        is never echoed back, never put in the URL or in a cookie)
 *   GET  /, /assets/...                      the built renderer; the page reads the token from its URL
 *        fragment (/#token=...), which browsers never send to the server
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
