import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import { WebSocket, WebSocketServer } from 'ws';

import {
  API_PREFIX,
  channelFromPath,
  EVENTS_PATH,
  EVENTS_PROTOCOL,
  SESSION_PATH,
  TOKEN_FRAGMENT_KEY,
  TOKEN_PATTERN,
  type EventMessage,
  type Session,
} from '../../contract/http.ts';
import { isEventName } from '../../contract/ipc.ts';
import { err, type ErrorCode, type Result } from '../../contract/result.ts';
import { CONTENT_SECURITY_POLICY } from '../csp.ts';
import { checkEvent, dispatch, type Handlers, type Logger } from '../dispatch.ts';
import type { EventSource } from '../events.ts';
import { DOWNLOAD_PREFIX, handleDownload, type DownloadSource } from './download.ts';
import {
  assertLoopbackHost,
  bearerToken,
  isAllowedHost,
  isAllowedOrigin,
  offeredProtocols,
  protocolToken,
  tokenMatches,
} from './guard.ts';
import { LOOPBACK_HOST } from './loopback.ts';
import {
  clearedSessionCookie,
  cookieValues,
  issueSession,
  SESSION_RENEW_AFTER_S,
  sessionCookie,
  sessionCookieName,
  sessionIssuedAt,
} from './session.ts';
import { resolveStatic, sendFile } from './static.ts';

/**
 * The HTTP + WebSocket transport of the contract (`bulwark serve`), on node:http and ws. It knows nothing
 * about the engine: the caller passes the handlers (any subset of the contract's channels) and an event
 * source. See src-main/contract/http.ts for the wire format and ./guard.ts for the access checks.
 */

export interface HttpServerOptions {
  /** handlers of the channels this service answers; the others answer UNSUPPORTED */
  handlers: Partial<Handlers>;
  /** contract events to push to every connected event socket */
  events: EventSource;
  /** what `GET /download/<ticket>` serves (restore.download); without it every ticket is unknown */
  downloads?: DownloadSource | undefined;
  /** the per-install token (32 random bytes, base64url) */
  token: string;
  /** the built renderer (dist/renderer); without it `/` answers 503 */
  rendererDir?: string | undefined;
  /** 0: an ephemeral port (see HttpServer.port for the one chosen) */
  port: number;
  /** only 127.0.0.1 is accepted; anything else (0.0.0.0, ::, a LAN address) is refused */
  host?: string | undefined;
  /** called once the server and every socket are closed (close the repository, the job manager...) */
  onShutdown?: (() => void | Promise<void>) | undefined;
  /** problems worth a look: a handler that threw, an answer or event outside the contract */
  log?: Logger | undefined;
  /** refused requests (host, origin, token); noisy under attack, so separate from `log` */
  logAccess?: Logger | undefined;
  /** largest accepted request body (default 1 MiB) */
  maxBodyBytes?: number | undefined;
  /** the time, for session cookies (default Date.now; tests move it) */
  now?: (() => number) | undefined;
}

export interface HttpServer {
  readonly host: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** the page URL with the token in its fragment: what the user opens */
  readonly pageUrl: string;
  /** event sockets currently open */
  connectionCount(): number;
  /** Stops accepting, closes every socket, then runs onShutdown. Idempotent. */
  close(): Promise<void>;
}

/** A bad option (host, port, token): the code the CLI reports it with. */
export class TransportOptionError extends Error {
  readonly code: ErrorCode = 'INVALID_ARGUMENT';
}

const DEFAULT_MAX_BODY = 1024 * 1024;
/** an event socket that buffers this much (a stalled browser tab) is dropped; it reconnects */
const MAX_BUFFERED = 4 * 1024 * 1024;
const HEARTBEAT_MS = 30_000;
const CLOSE_GRACE_MS = 2_000;

const UNAUTHORIZED_HINT =
  'Open the link Bulwark printed when it started (it ends in #token=…), or paste it on the sign-in page. ' +
  'Whoever set Bulwark up can print it again with `bulwark serve --print-token`. ' +
  'Scripts send `Authorization: Bearer <token>`.';

/** Headers on every response, API and static alike. */
function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

function sendJson(res: ServerResponse, status: number, body: Result<unknown>): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('Cache-Control', 'no-store');
  res.end(text);
}

/** Answers an upgrade request that is refused, on the raw socket (no WebSocket is created). */
function refuseUpgrade(socket: Duplex, status: number, body: Result<unknown>): void {
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json; charset=utf-8\r\n' +
      'Cache-Control: no-store\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

type BodyRead = { ok: true; text: string } | { ok: false; tooLarge: true };

function readBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      resolve({ ok: false, tooLarge: true });
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        req.off('data', onData);
        req.resume();
        resolve({ ok: false, tooLarge: true });
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve({ ok: true, text: Buffer.concat(chunks).toString('utf8') }));
    req.once('error', reject);
  });
}

/** The path of a request target, without the query; undefined for anything but an origin-form target. */
function pathOf(url: string | undefined): string | undefined {
  if (url === undefined || !url.startsWith('/') || url.startsWith('//')) return undefined;
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

function validatePort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TransportOptionError(`invalid port ${port}: use 1-65535, or 0 for any free port`);
  }
}

/** Starts the service on 127.0.0.1 and resolves once it listens. */
export async function createHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const host = options.host ?? LOOPBACK_HOST;
  try {
    assertLoopbackHost(host);
  } catch (e) {
    throw new TransportOptionError((e as Error).message);
  }
  validatePort(options.port);
  if (!TOKEN_PATTERN.test(options.token)) {
    throw new TransportOptionError('the service token must be 32 random bytes in base64url (43 characters)');
  }
  const { handlers, events, token, rendererDir } = options;
  const log: Logger = options.log ?? (() => {});
  const logAccess: Logger = options.logAccess ?? (() => {});
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const now = options.now ?? Date.now;
  let port = options.port;
  let closing: Promise<void> | undefined;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 4096,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(EVENTS_PROTOCOL) ? EVENTS_PROTOCOL : false),
  });
  const alive = new WeakSet<WebSocket>();

  /** Host and Origin checks shared by requests and upgrades; a Result to refuse with, or undefined. */
  function refusal(req: IncomingMessage): { status: number; body: Result<unknown> } | undefined {
    if (!isAllowedHost(req.headers.host, port)) {
      logAccess(`refused a request for host ${req.headers.host ?? '(none)'}`);
      return {
        status: 403,
        body: err(
          'PERMISSION',
          `requests for host ${req.headers.host ?? '(none)'} are refused`,
          `Open the service as http://${LOOPBACK_HOST}:${port}/.`,
        ),
      };
    }
    if (!isAllowedOrigin(req.headers.origin, port)) {
      logAccess(`refused a request from origin ${req.headers.origin ?? ''}`);
      return {
        status: 403,
        body: err(
          'PERMISSION',
          `requests from ${req.headers.origin ?? ''} are refused`,
          'Only the page served by Bulwark may call it.',
        ),
      };
    }
    return undefined;
  }

  /**
   * The session cookie's issue time when the request carries a valid one *and* an Origin (which refusal()
   * has checked is ours): a browser always sends Origin with a POST and a WebSocket upgrade, so a cookie
   * alone (a client that is not our page) is not enough.
   */
  function sessionOf(req: IncomingMessage): number | undefined {
    if (req.headers.origin === undefined) return undefined;
    for (const value of cookieValues(req.headers.cookie, sessionCookieName(port))) {
      const issued = sessionIssuedAt(value, token, now());
      if (issued !== undefined) return issued;
    }
    return undefined;
  }

  function refuseUnauthorized(res: ServerResponse, pathname: string, presented: boolean): void {
    logAccess(`refused ${pathname}: ${presented ? 'wrong' : 'no'} token`);
    res.setHeader('WWW-Authenticate', 'Bearer realm="bulwark"');
    sendJson(
      res,
      401,
      err(
        'PERMISSION',
        presented ? 'the access token is not valid' : 'this browser is not signed in to Bulwark',
        UNAUTHORIZED_HINT,
      ),
    );
  }

  /** POST: the token (Bearer) for the session cookie; DELETE: forget it. Never a cookie for a wrong token. */
  function handleSession(req: IncomingMessage, res: ServerResponse): void {
    req.resume(); // a body, if any, is not needed
    if (req.method === 'DELETE') {
      res.setHeader('Set-Cookie', clearedSessionCookie(sessionCookieName(port)));
      sendJson(res, 200, { ok: true, value: {} });
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST, DELETE');
      sendJson(res, 405, err('INVALID_ARGUMENT', `${req.method ?? ''} is not allowed here`));
      return;
    }
    if (!tokenMatches(bearerToken(req.headers.authorization), token)) {
      refuseUnauthorized(res, SESSION_PATH, req.headers.authorization !== undefined);
      return;
    }
    const session = issueSession(token, now());
    res.setHeader('Set-Cookie', sessionCookie(sessionCookieName(port), session.value));
    const value: Session = { expiresAt: new Date(session.expiresAt).toISOString() };
    sendJson(res, 200, { ok: true, value });
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (pathname === SESSION_PATH) {
      handleSession(req, res);
      return;
    }
    if (req.method !== 'POST') {
      if (pathname === EVENTS_PATH) {
        sendJson(res, 426, err('INVALID_ARGUMENT', `${EVENTS_PATH} is a WebSocket endpoint`));
        return;
      }
      res.setHeader('Allow', 'POST');
      sendJson(
        res,
        405,
        err('INVALID_ARGUMENT', `${req.method ?? ''} is not allowed: call a channel with POST`),
      );
      return;
    }
    const byToken = tokenMatches(bearerToken(req.headers.authorization), token);
    const issued = byToken ? undefined : sessionOf(req);
    if (!byToken && issued === undefined) {
      refuseUnauthorized(res, pathname, req.headers.authorization !== undefined);
      return;
    }
    // A session in use does not run out: renewed at most once a day.
    if (issued !== undefined && now() / 1000 - issued > SESSION_RENEW_AFTER_S)
      res.setHeader('Set-Cookie', sessionCookie(sessionCookieName(port), issueSession(token, now()).value));
    const channel = channelFromPath(pathname);
    if (!channel) {
      sendJson(res, 404, err('NOT_FOUND', `no channel ${pathname.slice(API_PREFIX.length) || '(none)'}`));
      return;
    }
    if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
      sendJson(
        res,
        415,
        err('INVALID_ARGUMENT', 'the request body must be JSON (Content-Type: application/json)'),
      );
      return;
    }
    const body = await readBody(req, maxBody);
    if (!body.ok) {
      res.setHeader('Connection', 'close');
      sendJson(res, 413, err('INVALID_ARGUMENT', `the request body is larger than ${maxBody} bytes`));
      return;
    }
    let request: unknown;
    try {
      request = body.text === '' ? undefined : JSON.parse(body.text);
    } catch {
      sendJson(res, 400, err('INVALID_ARGUMENT', `the request body for ${channel} is not valid JSON`));
      return;
    }
    // Every answer the handler side produced (including INVALID_ARGUMENT from the request schema) is a 200:
    // the Result carries it, as over Electron IPC. Other statuses mean the call never reached a handler.
    sendJson(res, 200, await dispatch(handlers, channel, request, log));
  }

  async function handleStatic(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      sendJson(res, 405, err('INVALID_ARGUMENT', `${req.method ?? ''} is not allowed here`));
      return;
    }
    const answer = await resolveStatic(rendererDir, pathname);
    switch (answer.kind) {
      case 'file':
        await sendFile(res, answer, req.method === 'HEAD');
        return;
      case 'not-built':
        sendJson(
          res,
          503,
          err(
            'UNSUPPORTED',
            'the browser UI is not built',
            'Run `npm run build` (it writes dist/renderer), then reload.',
          ),
        );
        return;
      case 'bad-path':
        sendJson(res, 400, err('INVALID_ARGUMENT', 'bad path'));
        return;
      case 'not-found':
        sendJson(res, 404, err('NOT_FOUND', `no such page ${pathname}`));
        return;
    }
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    setSecurityHeaders(res);
    if (closing) {
      res.setHeader('Connection', 'close');
      sendJson(res, 503, err('NETWORK', 'the Bulwark service is stopping'));
      return;
    }
    const refused = refusal(req);
    if (refused) {
      sendJson(res, refused.status, refused.body);
      return;
    }
    const pathname = pathOf(req.url);
    if (pathname === undefined) {
      sendJson(res, 400, err('INVALID_ARGUMENT', 'bad request target'));
      return;
    }
    if (pathname === '/api' || pathname.startsWith(API_PREFIX)) await handleApi(req, res, pathname);
    else if (pathname.startsWith(DOWNLOAD_PREFIX))
      await handleDownload(req, res, pathname, { downloads: options.downloads, token, log, logAccess });
    else await handleStatic(req, res, pathname);
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    if (closing) return refuseUpgrade(socket, 503, err('NETWORK', 'the Bulwark service is stopping'));
    const refused = refusal(req);
    if (refused) return refuseUpgrade(socket, refused.status, refused.body);
    if (pathOf(req.url) !== EVENTS_PATH)
      return refuseUpgrade(socket, 404, err('NOT_FOUND', 'no such endpoint'));
    const offered = req.headers['sec-websocket-protocol'];
    if (!offeredProtocols(offered).includes(EVENTS_PROTOCOL)) {
      return refuseUpgrade(
        socket,
        400,
        err(
          'INVALID_ARGUMENT',
          `offer the subprotocol "${EVENTS_PROTOCOL}" (and "${EVENTS_PROTOCOL}.<token>")`,
        ),
      );
    }
    if (!tokenMatches(protocolToken(offered), token) && sessionOf(req) === undefined) {
      logAccess('refused an event socket: no or wrong token, no session');
      return refuseUpgrade(socket, 401, err('PERMISSION', 'an access token is required', UNAUTHORIZED_HINT));
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      alive.add(ws);
      ws.on('pong', () => alive.add(ws));
      ws.on('error', (e) => log('event socket error', e));
      // clients only listen; anything they send is ignored
      ws.on('message', () => {});
    });
  }

  const server = createServer(
    { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 },
    (req, res) => {
      onRequest(req, res).catch((e: unknown) => {
        // the client went away (closed tab, aborted download): nothing to answer, nothing to report
        if (req.destroyed || res.destroyed) return;
        log('request failed', e);
        if (!res.headersSent) sendJson(res, 500, err('INTERNAL', 'unexpected internal error'));
        else res.destroy();
      });
    },
  );
  server.on('upgrade', onUpgrade);

  function broadcast(event: string, payload: unknown): void {
    if (!isEventName(event)) {
      log(`dropped an event outside the contract: ${event}`);
      return;
    }
    const checked = checkEvent(event, payload, log);
    if (checked === undefined) return;
    const message: EventMessage = { event, payload: checked };
    const frame = JSON.stringify(message);
    for (const ws of wss.clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (ws.bufferedAmount > MAX_BUFFERED) {
        log('dropped an event socket that does not keep up');
        ws.terminate();
        continue;
      }
      ws.send(frame);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => log('server error', e));
  port = (server.address() as AddressInfo).port;

  const unsubscribe = events.subscribe((event, payload) => {
    try {
      broadcast(event, payload);
    } catch (e) {
      log(`could not push ${event}`, e);
    }
  });

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const origin = `http://${host}:${port}`;

  async function shutdown(): Promise<void> {
    unsubscribe();
    clearInterval(heartbeat);
    for (const ws of wss.clients) ws.close(1001, 'Bulwark service stopping');
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const grace = setTimeout(() => {
      for (const ws of wss.clients) ws.terminate();
      server.closeAllConnections();
    }, CLOSE_GRACE_MS);
    await serverClosed;
    clearTimeout(grace);
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    try {
      await options.onShutdown?.();
    } catch (e) {
      log('shutdown hook failed', e);
    }
  }

  return {
    host,
    port,
    origin,
    pageUrl: `${origin}/#${TOKEN_FRAGMENT_KEY}=${token}`,
    connectionCount: () => wss.clients.size,
    close: () => (closing ??= shutdown()),
  };
}
