import { randomBytes } from 'node:crypto';
import http from 'node:http';

import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

import { ok } from '../../src-main/contract/result.ts';
import { createEventHub } from '../../src-main/transport/events.ts';
import { createHttpServer, type HttpServer } from '../../src-main/transport/http/server.ts';
import { SESSION_MAX_AGE_S } from '../../src-main/transport/http/session.ts';

// The browser session of `bulwark serve`: the token from the link is exchanged once for an HttpOnly,
// SameSite=Strict cookie, so a new tab or a bookmark works; the Host and Origin checks still apply.

const DAY = 86_400_000;
const version = { name: 'Bulwark', version: '1.0.0', platform: 'linux', runtime: { node: '24' } };
const newToken = (): string => randomBytes(32).toString('base64url');

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: { ok: boolean; value?: unknown; error?: { code: string; message: string; hint?: string } };
}

function request(
  port: number,
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: JSON.parse(text) as Answer['body'],
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

function openEvents(
  port: number,
  protocols: string[],
  headers: Record<string, string>,
): Promise<{ ws: WebSocket } | { status: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/events`, protocols, { headers });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
    });
    ws.once('error', reject);
  });
}

const servers: HttpServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()?.close();
});

async function serve(token: string, now: () => number = Date.now) {
  const hub = createEventHub();
  const server = await createHttpServer({
    handlers: { 'bulwark:app.version': () => ok(version) },
    events: hub,
    token,
    port: 0,
    now,
  });
  servers.push(server);
  const port = server.port;
  const origin = `http://127.0.0.1:${port}`;
  const name = `bulwark_session_${port}`;
  const signIn = (t: string, extra: Record<string, string> = {}) =>
    request(port, 'POST', '/api/session', { Authorization: `Bearer ${t}`, Origin: origin, ...extra });
  /** the cookie's value from a Set-Cookie answer */
  const cookieOf = (a: Answer): string => {
    const set = a.headers['set-cookie']?.[0] ?? '';
    return set.slice(name.length + 1, set.indexOf(';'));
  };
  const callWith = (cookie: string, headers: Record<string, string> = { Origin: origin }) =>
    request(
      port,
      'POST',
      '/api/app.version',
      { 'Content-Type': 'application/json', Cookie: `${name}=${cookie}`, ...headers },
      '{}',
    );
  return { server, hub, port, origin, name, signIn, cookieOf, callWith };
}

describe('the session cookie', () => {
  it('the token buys an HttpOnly, SameSite=Strict, Path=/ cookie; a wrong or missing token buys nothing', async () => {
    const token = newToken();
    const s = await serve(token);
    const good = await s.signIn(token);
    expect(good.status).toBe(200);
    const [set] = good.headers['set-cookie'] ?? [];
    expect(set).toMatch(new RegExp(`^${s.name}=\\d+\\.[A-Za-z0-9_-]{43}; `));
    expect(set?.split('; ').slice(1).sort()).toEqual(
      [`Max-Age=${SESSION_MAX_AGE_S}`, 'HttpOnly', 'Path=/', 'SameSite=Strict'].sort(),
    );
    expect(set).not.toContain(token); // the cookie is not the token
    expect(good.body).toEqual({ ok: true, value: { expiresAt: expect.stringMatching(/Z$/) } });

    for (const bad of [
      await s.signIn(newToken()),
      await request(s.port, 'POST', '/api/session', { Origin: s.origin }),
    ]) {
      expect(bad.status).toBe(401);
      expect(bad.headers['set-cookie']).toBeUndefined();
      expect(bad.body).toMatchObject({
        ok: false,
        error: { code: 'PERMISSION', hint: expect.stringMatching(/link/) },
      });
    }
    // a cross-site page cannot sign in either, even with the token
    const cross = await s.signIn(token, { Origin: 'https://evil.example' });
    expect(cross.status).toBe(403);
    expect(cross.headers['set-cookie']).toBeUndefined();
  });

  it('a call with only the cookie works; not from another site, not without an Origin, not forged', async () => {
    const token = newToken();
    const s = await serve(token);
    const cookie = s.cookieOf(await s.signIn(token));
    const r = await s.callWith(cookie);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true, value: version });

    expect((await s.callWith(cookie, { Origin: 'https://evil.example' })).status).toBe(403);
    expect((await s.callWith(cookie, { Origin: 'http://127.0.0.1:1' })).status).toBe(403);
    // a client that is not a browser page sends no Origin: it uses the token, not a cookie
    expect((await s.callWith(cookie, {})).status).toBe(401);
    const forged = `${cookie.slice(0, -1)}${cookie.endsWith('A') ? 'B' : 'A'}`;
    expect((await s.callWith(forged)).status).toBe(401);
    expect((await s.callWith(`${Math.floor(Date.now() / 1000)}.${'A'.repeat(43)}`)).status).toBe(401);
    // the same value under another port's name is not ours
    const other = await request(
      s.port,
      'POST',
      '/api/app.version',
      { 'Content-Type': 'application/json', Cookie: `bulwark_session_1=${cookie}`, Origin: s.origin },
      '{}',
    );
    expect(other.status).toBe(401);
  });

  it('the event socket opens with only the cookie (and our Origin)', async () => {
    const token = newToken();
    const s = await serve(token);
    const cookie = s.cookieOf(await s.signIn(token));
    const outcome = await openEvents(s.port, ['bulwark'], {
      Cookie: `${s.name}=${cookie}`,
      Origin: s.origin,
    });
    if (!('ws' in outcome)) throw new Error(`refused with ${outcome.status}`);
    const message = new Promise<unknown>((resolve) =>
      outcome.ws.once('message', (d: Buffer) => resolve(JSON.parse(d.toString('utf8')))),
    );
    s.hub.emit('bulwark:source.changed', { sourceId: 's1', removed: true });
    expect(await message).toEqual({
      event: 'bulwark:source.changed',
      payload: { sourceId: 's1', removed: true },
    });
    outcome.ws.close();

    expect(
      await openEvents(s.port, ['bulwark'], {
        Cookie: `${s.name}=${cookie}`,
        Origin: 'https://evil.example',
      }),
    ).toEqual({ status: 403 });
    expect(await openEvents(s.port, ['bulwark'], { Origin: s.origin })).toEqual({ status: 401 });
  });

  it('survives a restart (nothing stored), ends with the token, expires unused, is renewed in use', async () => {
    const token = newToken();
    let now = Date.now();
    const s = await serve(token, () => now);
    const cookie = s.cookieOf(await s.signIn(token));

    // a new process with the same install token accepts it
    const again = await serve(token, () => now);
    expect((await again.callWith(cookie)).status).toBe(200);
    // a new token (the service-token file deleted) ends every session
    const rotated = await serve(newToken(), () => now);
    expect((await rotated.callWith(cookie)).status).toBe(401);

    // used after two days: answered, and renewed
    now += 2 * DAY;
    const used = await s.callWith(cookie);
    expect(used.status).toBe(200);
    const renewed = s.cookieOf(used);
    expect(renewed).not.toBe(cookie);
    // unused for longer than its lifetime: over
    now += SESSION_MAX_AGE_S * 1000 - DAY;
    expect((await s.callWith(cookie)).status).toBe(401);
    expect((await s.callWith(renewed)).status).toBe(200);
  });

  it('DELETE /api/session forgets it in this browser', async () => {
    const s = await serve(newToken());
    const out = await request(s.port, 'DELETE', '/api/session', { Origin: s.origin });
    expect(out.status).toBe(200);
    expect(out.headers['set-cookie']?.[0]).toMatch(
      new RegExp(`^${s.name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict$`),
    );
    expect((await request(s.port, 'GET', '/api/session', { Origin: s.origin })).status).toBe(405);
  });
});
