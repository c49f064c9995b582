import { describe, expect, it } from 'vitest';

import { createClient } from '../../src-renderer/src/api/client.ts';
import { httpTransport, type WebSocketLike } from '../../src-renderer/src/api/http.ts';
import { takeAccessToken, TOKEN_STORAGE_KEY } from '../../src-renderer/src/api/token.ts';

const BASE = 'http://127.0.0.1:8737';
const TOKEN = 'a'.repeat(20) + 'B_-' + 'c'.repeat(20);
const version = { name: 'Bulwark', version: '1.0.0', platform: 'linux', runtime: { node: '24.0.0' } };

interface Sent {
  url: string;
  init: RequestInit;
}

function fakeFetch(answer: () => Promise<Response>) {
  const sent: Sent[] = [];
  const fetch = ((input: URL | string, init: RequestInit) => {
    sent.push({ url: String(input), init });
    return answer();
  }) as typeof globalThis.fetch;
  return { fetch, sent };
}

const json = (status: number, body: unknown) =>
  Promise.resolve(
    new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }),
  );

describe('httpTransport calls', () => {
  it('POSTs the request with the bearer token and passes the Result on', async () => {
    const { fetch, sent } = fakeFetch(() => json(200, { ok: true, value: version }));
    const client = createClient(httpTransport({ baseUrl: BASE, token: TOKEN, fetch }));
    expect(client.transport).toBe('http');
    expect(await client.call('bulwark:app.version', {})).toEqual({ ok: true, value: version });
    // the token is exchanged once for the session cookie (other tabs use it), then the call goes
    expect(sent).toHaveLength(2);
    expect(sent[0]?.url).toBe(`${BASE}/api/session`);
    expect(sent[1]?.url).toBe(`${BASE}/api/app.version`);
    expect(sent[1]?.init).toMatchObject({
      method: 'POST',
      body: '{}',
      credentials: 'same-origin',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    });
  });

  it('passes a refusal of the service on as its typed error', async () => {
    const refusal = { ok: false, error: { code: 'PERMISSION', message: 'the access token is not valid' } };
    const { fetch } = fakeFetch(() => json(401, refusal));
    const client = createClient(httpTransport({ baseUrl: BASE, token: TOKEN, fetch }));
    expect(await client.call('bulwark:repo.info', {})).toEqual(refusal);
  });

  it('turns an unreachable service, a timeout or a non-JSON answer into NETWORK values', async () => {
    const down = fakeFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    const r1 = await createClient(httpTransport({ baseUrl: BASE, token: TOKEN, fetch: down.fetch })).call(
      'bulwark:repo.info',
      {},
    );
    expect(r1).toMatchObject({
      ok: false,
      error: { code: 'NETWORK', hint: expect.stringMatching(/bulwark serve/) },
    });

    const slow = fakeFetch(() => Promise.reject(new DOMException('timed out', 'TimeoutError')));
    const r2 = await createClient(httpTransport({ baseUrl: BASE, token: TOKEN, fetch: slow.fetch })).call(
      'bulwark:repo.info',
      {},
    );
    expect(r2).toMatchObject({
      ok: false,
      error: { code: 'NETWORK', message: expect.stringMatching(/did not answer/) },
    });

    const proxy = fakeFetch(() => Promise.resolve(new Response('<html>bad gateway</html>', { status: 502 })));
    const r3 = await createClient(httpTransport({ baseUrl: BASE, token: TOKEN, fetch: proxy.fetch })).call(
      'bulwark:repo.info',
      {},
    );
    expect(r3).toMatchObject({
      ok: false,
      error: { code: 'NETWORK', message: expect.stringMatching(/HTTP 502/) },
    });
  });

  it('without a token relies on the session cookie: no Authorization, the cookie goes along', async () => {
    const { fetch, sent } = fakeFetch(() => json(200, { ok: true, value: version }));
    const result = await createClient(httpTransport({ baseUrl: BASE, fetch })).call(
      'bulwark:app.version',
      {},
    );
    expect(result).toEqual({ ok: true, value: version });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.init).toMatchObject({ credentials: 'same-origin' });
    expect(sent[0]?.init.headers).toEqual({ 'Content-Type': 'application/json' });
  });
});

class FakeSocket implements WebSocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  closed: number | undefined;
  readonly url: string;
  readonly protocols: string[];
  constructor(url: string, protocols: string[]) {
    this.url = url;
    this.protocols = protocols;
  }
  close(code?: number): void {
    this.closed = code ?? 1000;
  }
  /** the server side */
  drop(): void {
    this.onclose?.({});
  }
}

function eventsHarness() {
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number; cleared: boolean }[] = [];
  const states: string[] = [];
  const transport = httpTransport({
    baseUrl: BASE,
    token: TOKEN,
    fetch: fakeFetch(() => json(200, {})).fetch,
    webSocket: (url, protocols) => {
      const s = new FakeSocket(url, protocols);
      sockets.push(s);
      return s;
    },
    backoff: { initialMs: 100, maxMs: 1000 },
    random: () => 0.5, // no jitter
    setTimer: (fn, ms) => {
      const t = { fn, ms, cleared: false };
      timers.push(t);
      return t;
    },
    clearTimer: (t) => void ((t as { cleared: boolean }).cleared = true),
    onConnectionChange: (s) => states.push(s),
  });
  const fire = (): void => {
    const t = timers.at(-1);
    if (!t || t.cleared) throw new Error('no pending timer');
    t.fn();
  };
  return { transport, sockets, timers, states, fire };
}

const jobState = { jobId: 'j1', kind: 'backup', state: 'running', at: '2026-03-01T10:00:00Z' };

describe('httpTransport events', () => {
  it('opens one socket with the token in the subprotocol and routes {event, payload} frames', () => {
    const { transport, sockets } = eventsHarness();
    const states: unknown[] = [];
    const progress: unknown[] = [];
    const offA = transport.on('bulwark:job.state', (p) => states.push(p));
    const offB = transport.on('bulwark:job.progress', (p) => progress.push(p));
    expect(sockets).toHaveLength(1);
    const ws = sockets[0] as FakeSocket;
    expect(ws.url).toBe('ws://127.0.0.1:8737/api/events');
    expect(ws.protocols).toEqual(['bulwark', `bulwark.${TOKEN}`]);
    ws.onopen?.({});
    ws.onmessage?.({ data: JSON.stringify({ event: 'bulwark:job.state', payload: jobState }) });
    ws.onmessage?.({ data: 'not json' });
    ws.onmessage?.({ data: JSON.stringify({ event: 'bulwark:unknown', payload: 1 }) });
    ws.onmessage?.({ data: JSON.stringify({ payload: jobState }) });
    expect(states).toEqual([jobState]);
    expect(progress).toEqual([]);
    offA();
    expect(ws.closed).toBeUndefined();
    offB();
    expect(ws.closed).toBe(1000);
  });

  it('reconnects with exponential backoff, resets it once open, and stops when nobody listens', () => {
    const { transport, sockets, timers, states, fire } = eventsHarness();
    const off = transport.on('bulwark:job.state', () => {});
    (sockets[0] as FakeSocket).drop();
    for (let i = 1; i <= 4; i++) {
      fire();
      (sockets[i] as FakeSocket).drop();
    }
    expect(timers.map((t) => t.ms)).toEqual([100, 200, 400, 800, 1000]);
    fire();
    (sockets[5] as FakeSocket).onopen?.({});
    (sockets[5] as FakeSocket).drop();
    expect(timers.at(-1)?.ms).toBe(100);
    expect(states.slice(0, 3)).toEqual(['connecting', 'waiting', 'connecting']);
    off();
    expect(timers.at(-1)?.cleared).toBe(true);
    expect(states.at(-1)).toBe('offline');
    expect(sockets).toHaveLength(6);
  });

  it('without a token opens the socket with the plain protocol (the session cookie signs it in)', () => {
    const opened: string[][] = [];
    const transport = httpTransport({
      baseUrl: BASE,
      webSocket: (_url, protocols) => {
        opened.push(protocols);
        return new FakeSocket('', protocols);
      },
    });
    transport.on('bulwark:job.state', () => {})();
    expect(opened).toEqual([['bulwark']]);
  });
});

describe('takeAccessToken', () => {
  function page(hash: string, stored?: string) {
    const storage = new Map<string, string>(stored ? [[TOKEN_STORAGE_KEY, stored]] : []);
    const replaced: string[] = [];
    const location = { hash, pathname: '/', search: '' };
    const history = {
      state: null,
      replaceState: (_d: unknown, _u: string, url?: string) => void replaced.push(url ?? ''),
    };
    const store = {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => void storage.set(k, v),
    };
    return { take: () => takeAccessToken(location, history, store), storage, replaced };
  }

  it('moves the token from the fragment to sessionStorage and strips it from the address bar', () => {
    const p = page(`#token=${TOKEN}`);
    expect(p.take()).toBe(TOKEN);
    expect(p.storage.get(TOKEN_STORAGE_KEY)).toBe(TOKEN);
    expect(p.replaced).toEqual(['/']);
  });

  it('keeps other fragment parameters', () => {
    const p = page(`#view=snapshots&token=${TOKEN}`);
    expect(p.take()).toBe(TOKEN);
    expect(p.replaced).toEqual(['/#view=snapshots']);
  });

  it('uses the stored token after a reload, and ignores (but strips) a malformed one', () => {
    expect(page('', TOKEN).take()).toBe(TOKEN);
    const p = page('#token=<script>', TOKEN);
    expect(p.take()).toBe(TOKEN);
    expect(p.replaced).toEqual(['/']);
    expect(page('').take()).toBeUndefined();
  });
});
