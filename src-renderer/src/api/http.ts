import {
  apiPath,
  EVENTS_PATH,
  EVENTS_PROTOCOL,
  eventMessageSchema,
  SESSION_PATH,
  sessionSchema,
  TOKEN_PROTOCOL_PREFIX,
  type Session,
} from '../../../src-main/contract/http.ts';
import { isEventName, type ChannelName, type EventName } from '../../../src-main/contract/ipc.ts';
import { err, resultSchema, type Result } from '../../../src-main/contract/result.ts';
import type { Transport } from './client.ts';
import { SIGN_IN_HELP, tokenFromInput } from './token.ts';

/**
 * The contract over HTTP + WebSocket, for the browser UI served by `bulwark serve` (wire format in
 * src-main/contract/http.ts). Calls are `POST /api/<channel>` with the bearer token; the answer is the
 * Result envelope, passed on for the client to validate. Failures of the link itself come back as typed
 * values too (NETWORK, PERMISSION), never as a rejection. Events arrive on one WebSocket, opened while
 * someone listens and reopened with exponential backoff (and jitter) when it drops.
 *
 * Access: a tab opened from the link has the token; before its first call it exchanges it for the session
 * cookie (POST /api/session), so every later tab, bookmark or reload of this browser is signed in without
 * it. A tab without the token relies on that cookie (sent by the browser, unreadable to scripts); when
 * there is none the service answers PERMISSION and the page shows how to sign in (signIn below).
 */

/** The part of the browser's WebSocket the transport uses. */
export interface WebSocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(code?: number, reason?: string): void;
}

export type WebSocketFactory = (url: string, protocols: string[]) => WebSocketLike;

export type ConnectionState = 'offline' | 'connecting' | 'open' | 'waiting';

export interface HttpTransportOptions {
  /** origin of `bulwark serve` (the page's own origin when served by it) */
  baseUrl: string;
  /** the per-install token (from the link); without it the browser's session cookie is used */
  token?: string | undefined;
  fetch?: typeof fetch;
  webSocket?: WebSocketFactory;
  /** a call that takes longer fails with NETWORK (default 60 s: opening a repository runs scrypt) */
  timeoutMs?: number;
  /** reconnect delays: first, then doubled up to max (default 500 ms … 30 s), each with ±25 % jitter */
  backoff?: { initialMs: number; maxMs: number };
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** state of the event socket, for a "live / reconnecting" indicator */
  onConnectionChange?: (state: ConnectionState) => void;
}

async function postSession(
  fetchFn: typeof fetch,
  baseUrl: string,
  token: string,
  timeoutMs: number,
): Promise<Result<Session>> {
  let response: Response;
  try {
    response = await fetchFn(new URL(SESSION_PATH, baseUrl), {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      cache: 'no-store',
      credentials: 'same-origin',
      redirect: 'error',
      referrerPolicy: 'no-referrer',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch {
    return err(
      'NETWORK',
      `cannot reach the Bulwark service at ${baseUrl}`,
      'Check that Bulwark is still running, then try again.',
    );
  }
  try {
    const parsed = resultSchema(sessionSchema).safeParse(await response.json());
    if (parsed.success) return parsed.data;
  } catch {
    // not JSON: reported below like any answer that is not a Result
  }
  return err('NETWORK', `unexpected answer from ${baseUrl} (HTTP ${response.status})`);
}

export interface SignInOptions {
  baseUrl: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/**
 * The sign-in page: what the person pasted (the whole link, or the token alone) is exchanged for this
 * browser's session. Resolves to a Result (PERMISSION: not the right link; INVALID_ARGUMENT: not a link
 * at all); on success, reload the page.
 */
export function signIn(pasted: string, options: SignInOptions): Promise<Result<Session>> {
  const token = tokenFromInput(pasted);
  if (token === undefined)
    return Promise.resolve(
      err('INVALID_ARGUMENT', 'This is not a Bulwark link or access token.', SIGN_IN_HELP),
    );
  const fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  return postSession(fetchFn, options.baseUrl, token, options.timeoutMs ?? 60_000);
}

/** Forgets this browser's session (other browsers keep theirs). */
export async function signOut(options: SignInOptions): Promise<Result<unknown>> {
  const fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  try {
    const response = await fetchFn(new URL(SESSION_PATH, options.baseUrl), {
      method: 'DELETE',
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
    });
    return (await response.json()) as Result<unknown>;
  } catch {
    return err('NETWORK', `cannot reach the Bulwark service at ${options.baseUrl}`);
  }
}

export function httpTransport(options: HttpTransportOptions): Transport {
  const { baseUrl, token } = options;
  const fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const openSocket: WebSocketFactory =
    options.webSocket ?? ((url, protocols) => new WebSocket(url, protocols) as unknown as WebSocketLike);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const { initialMs, maxMs } = options.backoff ?? { initialMs: 500, maxMs: 30_000 };
  const random = options.random ?? Math.random;
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  const report = options.onConnectionChange ?? (() => {});
  // The token is exchanged for the session once, before the first call; the call goes ahead whatever the
  // outcome (it carries the token anyway; an older service without sessions still answers it).
  let session: Promise<unknown> | undefined;

  async function invoke(channel: ChannelName, request: unknown): Promise<unknown> {
    if (token !== undefined)
      await (session ??= postSession(fetchFn, baseUrl, token, timeoutMs).then((r) => {
        // the service could not be reached: try again with the next call (a refusal is final)
        if (!r.ok && r.error.code === 'NETWORK') session = undefined;
      }));
    let response: Response;
    try {
      response = await fetchFn(new URL(apiPath(channel), baseUrl), {
        method: 'POST',
        headers:
          token === undefined
            ? { 'Content-Type': 'application/json' }
            : { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(request),
        cache: 'no-store',
        // the session cookie goes along (same origin only); it is HttpOnly, so this page never sees it
        credentials: 'same-origin',
        redirect: 'error',
        referrerPolicy: 'no-referrer',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const timedOut = e instanceof DOMException && e.name === 'TimeoutError';
      return err(
        'NETWORK',
        timedOut
          ? `${channel}: the Bulwark service did not answer within ${Math.round(timeoutMs / 1000)} s`
          : `${channel}: cannot reach the Bulwark service at ${baseUrl}`,
        'Check that `bulwark serve` is still running, then try again.',
      );
    }
    try {
      // Every answer of the service, refusals included (401, 403, 404), is a Result envelope in JSON.
      return (await response.json()) as unknown;
    } catch {
      return err('NETWORK', `${channel}: unexpected answer from ${baseUrl} (HTTP ${response.status})`);
    }
  }

  // ---- events: one socket shared by every listener ----
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  let socket: WebSocketLike | undefined;
  let timer: unknown;
  let attempt = 0;

  const listening = (): boolean => [...listeners.values()].some((set) => set.size > 0);

  function eventsUrl(): string {
    const url = new URL(EVENTS_PATH, baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.href;
  }

  function deliver(data: unknown): void {
    if (typeof data !== 'string') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    const message = eventMessageSchema.safeParse(parsed);
    if (!message.success || !isEventName(message.data.event)) return;
    for (const listener of [...(listeners.get(message.data.event) ?? [])]) listener(message.data.payload);
  }

  function scheduleReconnect(): void {
    const base = Math.min(maxMs, initialMs * 2 ** attempt);
    attempt += 1;
    const delay = Math.round(base * (0.75 + random() * 0.5));
    report('waiting');
    timer = setTimer(() => {
      timer = undefined;
      connect();
    }, delay);
  }

  function connect(): void {
    if (socket || timer !== undefined || !listening()) return;
    report('connecting');
    let ws: WebSocketLike;
    try {
      // without the token, the browser's session cookie authenticates the upgrade
      ws = openSocket(
        eventsUrl(),
        token === undefined ? [EVENTS_PROTOCOL] : [EVENTS_PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${token}`],
      );
    } catch {
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      report('open');
    };
    ws.onmessage = (ev) => deliver(ev.data);
    ws.onerror = () => {}; // a close event follows
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = undefined;
      if (listening()) scheduleReconnect();
      else report('offline');
    };
  }

  function disconnect(): void {
    if (timer !== undefined) clearTimer(timer);
    timer = undefined;
    attempt = 0;
    const ws = socket;
    socket = undefined;
    ws?.close(1000, 'no listener left');
    report('offline');
  }

  function on(event: EventName, listener: (payload: unknown) => void): () => void {
    const set = listeners.get(event) ?? new Set();
    listeners.set(event, set);
    // wrapped, so the same function subscribed twice is two subscriptions, each removed on its own
    const entry = (payload: unknown): void => listener(payload);
    set.add(entry);
    connect();
    return () => {
      set.delete(entry);
      if (!listening()) disconnect();
    };
  }

  return { name: 'http', failureCode: 'NETWORK', invoke, on };
}
