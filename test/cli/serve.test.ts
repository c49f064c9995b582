import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

import { Output } from '../../src-main/cli/output.ts';
import { run } from '../../src-main/cli/run.ts';
import { checkHost, startService, type RunningService } from '../../src-main/cli/serve/service.ts';
import { loadOrCreateServiceToken, serviceTokenFile } from '../../src-main/cli/serve/token.ts';
import { localPaths } from '../../src-main/engine/index.ts';
import { CONTENT_SECURITY_POLICY } from '../../src-main/transport/csp.ts';
import { createEventHub } from '../../src-main/transport/events.ts';
import { createHttpServer } from '../../src-main/transport/http/server.ts';
import { runMain, type Result } from './helpers.ts';

let tmp: string;
let home: string;
let env: NodeJS.ProcessEnv;
let token: string;
let service: RunningService;
let port: number;
const hub = createEventHub();

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: () => { ok: boolean; value?: unknown; error?: { code: string; message: string; hint?: string } };
}

/** One raw HTTP request (node:http, so Host and Origin can be set to anything). */
function request(
  method: string,
  target: string,
  { headers = {}, body }: { headers?: Record<string, string>; body?: string } = {},
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
          text,
          json: () => JSON.parse(text) as ReturnType<Answer['json']>,
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const auth = (t: string = token): Record<string, string> => ({
  Authorization: `Bearer ${t}`,
  'Content-Type': 'application/json',
});

/** POST /api/<name> with a valid token unless told otherwise. */
const call = (name: string, body: unknown = {}, headers: Record<string, string> = auth()) =>
  request('POST', `/api/${name}`, { headers, body: JSON.stringify(body) });

type WsOutcome = { ws: WebSocket } | { status: number };

function openEvents(protocols: string[], headers: Record<string, string> = {}): Promise<WsOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/events`, protocols, { headers });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
    });
    ws.once('error', (e) => reject(e));
  });
}

function runCli(args: string[]): Promise<Result> {
  return runMain(args, { ...env, NODE_COMPILE_CACHE: path.join(tmp, 'node-compile-cache') });
}

const jobState = {
  jobId: 'job-1',
  kind: 'backup',
  state: 'running',
  at: '2026-03-01T10:00:00.000Z',
} as const;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  home = path.join(tmp, 'home');
  env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BULWARK_')) env[k] = v;
  Object.assign(env, { BULWARK_HOME: home, BULWARK_KDF_N: '1024' });

  // a stand-in for dist/renderer, plus a secret next to it that must never be served
  const renderer = path.join(tmp, 'renderer');
  fs.mkdirSync(path.join(renderer, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>Bulwark</title>');
  fs.writeFileSync(path.join(renderer, 'assets', 'index-abc123.js'), 'console.log(1);');
  fs.writeFileSync(path.join(renderer, '.env'), 'SECRET=1');
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'top secret');

  token = loadOrCreateServiceToken(serviceTokenFile(localPaths(env))).token;
  service = await startService({
    repo: {},
    ctx: { env, signal: new AbortController().signal, out: new Output({ quiet: true }) },
    token,
    port: 0,
    rendererDir: renderer,
    events: hub,
  });
  port = service.server.port;
});

afterAll(async () => {
  await service?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('service token', () => {
  it('is 32 random bytes in base64url, in <configDir>/service-token with mode 0600, created once', () => {
    const file = serviceTokenFile(localPaths(env));
    expect(file).toBe(path.join(home, 'config', 'service-token'));
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(token);
    expect(loadOrCreateServiceToken(file)).toEqual({ token, file, created: false });
  });

  it('tightens a loosened mode and refuses a damaged file with a way out', () => {
    const file = path.join(tmp, 'other', 'service-token');
    const first = loadOrCreateServiceToken(file);
    expect(first.created).toBe(true);
    expect(first.token).not.toBe(token);
    fs.chmodSync(file, 0o644);
    expect(loadOrCreateServiceToken(file).token).toBe(first.token);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    fs.writeFileSync(file, 'short\n');
    expect(() => loadOrCreateServiceToken(file)).toThrow(
      expect.objectContaining({ code: 'CORRUPT', hint: expect.stringMatching(/Delete it/) }),
    );
  });

  it('`bulwark serve --print-token` prints the same token', async () => {
    const r = await runCli(['serve', '--print-token']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(token);
  });
});

describe('listen address', () => {
  it('`bulwark serve --host 0.0.0.0` is refused with a clear error', async () => {
    const r = await runCli(['serve', '--host', '0.0.0.0', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/--host 0\.0\.0\.0 is refused: bulwark serve listens on 127\.0\.0\.1 only/);
    expect(r.stderr).toMatch(/hint: .*ssh -L/);
  });

  it.each(['0.0.0.0', '::', '::1', 'localhost', '192.168.1.10', ''])('refuses host %j', async (host) => {
    expect(() => checkHost(host)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await expect(createHttpServer({ handlers: {}, events: hub, token, port: 0, host })).rejects.toMatchObject(
      {
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/listens on 127\.0\.0\.1 only/),
      },
    );
  });

  it('refuses a weak token', async () => {
    await expect(createHttpServer({ handlers: {}, events: hub, token: '', port: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('listens on 127.0.0.1 and reports the ephemeral port it got', () => {
    expect(service.server.host).toBe('127.0.0.1');
    expect(port).toBeGreaterThan(0);
    expect(service.server.pageUrl).toBe(`http://127.0.0.1:${port}/#token=${token}`);
  });
});

describe('API access checks', () => {
  it('answers 401 PERMISSION without a token', async () => {
    const r = await call('app.version', {}, { 'Content-Type': 'application/json' });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer realm="bulwark"');
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'PERMISSION', hint: expect.any(String) } });
  });

  it.each([
    ['a wrong token', `Bearer ${'A'.repeat(43)}`],
    [
      'the token with one character changed',
      () => `Bearer ${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`,
    ],
    ['the token as Basic credentials', () => `Basic ${token}`],
    ['the token with a suffix', () => `Bearer ${token}x`],
  ])('answers 401 PERMISSION with %s', async (_what, header) => {
    const value = typeof header === 'function' ? header() : header;
    const r = await call('app.version', {}, { Authorization: value, 'Content-Type': 'application/json' });
    expect(r.status).toBe(401);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'PERMISSION' } });
  });

  it.each(['https://evil.example', `http://127.0.0.1:${1}`, 'null', 'http://localhost.evil.example'])(
    'answers 403 PERMISSION to Origin %s, even with the token',
    async (origin) => {
      const r = await call('app.version', {}, { ...auth(), Origin: origin });
      expect(r.status).toBe(403);
      expect(r.json()).toMatchObject({ ok: false, error: { code: 'PERMISSION' } });
    },
  );

  it('accepts our own origins', async () => {
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
      const r = await call('app.version', {}, { ...auth(), Origin: origin });
      expect(r.status).toBe(200);
    }
  });

  it.each(['evil.example:PORT', 'evil.example', '127.0.0.1', '127.0.0.1:1', '[::1]:PORT', '0.0.0.0:PORT'])(
    'answers 403 PERMISSION to Host %s (DNS rebinding), API and pages alike',
    async (host) => {
      const Host = host.replace('PORT', String(port));
      const api = await call('app.version', {}, { ...auth(), Host });
      expect(api.status).toBe(403);
      expect(api.json()).toMatchObject({ ok: false, error: { code: 'PERMISSION' } });
      const page = await request('GET', '/', { headers: { Host } });
      expect(page.status).toBe(403);
      expect(page.text).not.toContain('<title>');
    },
  );

  it('accepts Host localhost:PORT', async () => {
    const r = await call('app.version', {}, { ...auth(), Host: `localhost:${port}` });
    expect(r.status).toBe(200);
  });
});

describe('API calls', () => {
  it('answers a valid request with an ok Result', async () => {
    const r = await call('app.version');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.json()).toEqual({
      ok: true,
      value: {
        name: 'Bulwark',
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
        platform: process.platform,
        runtime: { node: process.versions.node },
      },
    });
  });

  it.each([
    ['an unknown field', { rm: true }],
    ['a wrong type', { limit: 'ten' }],
    ['an out-of-range value', { limit: 0 }],
    ['no object at all', 42],
  ])('answers %s with a typed INVALID_ARGUMENT', async (_what, body) => {
    const r = await call('snapshots.list', body);
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });

  it('refuses a body that is not JSON, not declared as JSON, or too large', async () => {
    const bad = await request('POST', '/api/app.version', { headers: auth(), body: '{nope' });
    expect([bad.status, bad.json().error?.code]).toEqual([400, 'INVALID_ARGUMENT']);
    const form = await request('POST', '/api/app.version', {
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    expect([form.status, form.json().error?.code]).toEqual([415, 'INVALID_ARGUMENT']);
    const big = await request('POST', '/api/app.version', {
      headers: auth(),
      body: `"${'x'.repeat(1_100_000)}"`,
    });
    expect([big.status, big.json().error?.code]).toEqual([413, 'INVALID_ARGUMENT']);
  });

  it('answers an unknown channel with a typed NOT_FOUND (only with the token)', async () => {
    const r = await call('repo.delete');
    expect(r.status).toBe(404);
    expect(r.json()).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'no channel repo.delete' } });
    expect((await call('repo.delete', {}, { 'Content-Type': 'application/json' })).status).toBe(401);
    expect((await call('bulwark:app.version')).status).toBe(404);
  });

  it('answers other methods with 405', async () => {
    const r = await request('GET', '/api/app.version', { headers: auth() });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('POST');
  });

  it('reports a missing repository, then sees the one a backup creates meanwhile', async () => {
    const before = await call('repo.info');
    expect(before.json()).toMatchObject({
      ok: false,
      error: { code: 'REPO_NOT_FOUND', hint: expect.any(String) },
    });

    const src = path.join(tmp, 'src');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'a.txt'), 'alpha\n');
    expect(await run(['backup', src, '--quiet'], env)).toBe(0);

    const info = await call('repo.info');
    expect(info.json()).toMatchObject({
      ok: true,
      value: {
        target: { kind: 'fs', location: path.join(home, 'data', 'repository') },
        encrypted: true,
        immutability: { mode: 'worm-folder' },
        snapshotCount: 1,
      },
    });
    const list = (await call('snapshots.list')).json();
    expect(list.ok).toBe(true);
    const snaps = (list.value as { snapshots: { paths: string[]; stats: { files: number } }[] }).snapshots;
    expect(snaps).toHaveLength(1);
    expect(snaps[0]).toMatchObject({ paths: [src], stats: { files: 1, errors: 0 } });

    expect(await run(['backup', src, '--quiet'], env)).toBe(0);
    const two = (await call('snapshots.list', { limit: 5 })).json().value as {
      snapshots: { time: string }[];
    };
    expect(two.snapshots).toHaveLength(2);
    expect(Date.parse(two.snapshots[0]?.time ?? '')).toBeGreaterThanOrEqual(
      Date.parse(two.snapshots[1]?.time ?? ''),
    );
    expect((await call('snapshots.list', { limit: 1 })).json().value).toMatchObject({
      snapshots: [two.snapshots[0]],
    });
    expect((await call('snapshots.list', { source: 'elsewhere' })).json()).toEqual({
      ok: true,
      value: { snapshots: [] },
    });
  });
});

describe('the renderer pages', () => {
  it('serves / with the strict CSP and the other security headers, no token needed', async () => {
    const r = await request('GET', '/');
    expect(r.status).toBe(200);
    expect(r.text).toContain('<title>Bulwark</title>');
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['referrer-policy']).toBe('no-referrer');
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['set-cookie']).toBeUndefined();
  });

  it('serves hashed assets as immutable', async () => {
    const r = await request('GET', '/assets/index-abc123.js');
    expect(r.status).toBe(200);
    expect(r.text).toBe('console.log(1);');
    expect(r.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(r.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect(r.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  });

  it.each([
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/..%2fsecret.txt',
    '/.env',
    '/assets/',
  ])('never serves anything outside the folder or hidden: %s', async (target) => {
    const r = await request('GET', target);
    expect([400, 404]).toContain(r.status);
    expect(r.text).not.toMatch(/top secret|SECRET=1/);
  });

  it('answers a missing page with 404 and POST to a page with 405', async () => {
    expect((await request('GET', '/nope.html')).status).toBe(404);
    expect((await request('POST', '/', { body: 'x' })).status).toBe(405);
  });
});

describe('the event socket', () => {
  it('refuses an upgrade without the token, with a wrong one, or from a foreign origin or host', async () => {
    expect(await openEvents(['bulwark'])).toEqual({ status: 401 });
    expect(await openEvents(['bulwark', `bulwark.${'A'.repeat(43)}`])).toEqual({ status: 401 });
    expect(await openEvents(['bulwark', `bulwark.${token}`], { Origin: 'https://evil.example' })).toEqual({
      status: 403,
    });
    expect(await openEvents(['bulwark', `bulwark.${token}`], { Host: `evil.example:${port}` })).toEqual({
      status: 403,
    });
    expect(await openEvents([`bulwark.${token}`])).toEqual({ status: 400 });
  });

  it('with the token, pushes contract events as {event, payload} and drops invalid ones', async () => {
    const outcome = await openEvents(['bulwark', `bulwark.${token}`], { Origin: `http://127.0.0.1:${port}` });
    if (!('ws' in outcome)) throw new Error(`upgrade refused with ${outcome.status}`);
    const { ws } = outcome;
    // the server selects the plain protocol: the token is never echoed back
    expect(ws.protocol).toBe('bulwark');
    const received: unknown[] = [];
    const two = new Promise<void>((resolve) => {
      ws.on('message', (data: Buffer) => {
        received.push(JSON.parse(data.toString('utf8')));
        if (received.length === 2) resolve();
      });
    });
    hub.emit('bulwark:job.state', { ...jobState, state: 'exploded' } as never);
    hub.emit('bulwark:job.state', jobState);
    hub.emit('bulwark:job.progress', {
      jobId: 'job-1',
      phase: 'backing-up',
      bytesDone: 10,
      filesDone: 1,
      rate: 5,
    });
    await two;
    expect(received).toEqual([
      { event: 'bulwark:job.state', payload: jobState },
      {
        event: 'bulwark:job.progress',
        payload: { jobId: 'job-1', phase: 'backing-up', bytesDone: 10, filesDone: 1, rate: 5 },
      },
    ]);
    ws.close();
  });
});

describe('shutdown', () => {
  it('closes the event sockets and the port, then calls onShutdown', async () => {
    const events = createEventHub();
    const order: string[] = [];
    const server = await createHttpServer({
      handlers: {},
      events,
      token,
      port: 0,
      onShutdown: () => void order.push('onShutdown'),
    });
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`, ['bulwark', `bulwark.${token}`]);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    expect(server.connectionCount()).toBe(1);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await server.close();
    order.push('closed');
    expect(await closed).toBe(1001);
    expect(order).toEqual(['onShutdown', 'closed']);
    await expect(
      new Promise((resolve, reject) =>
        http.get({ host: '127.0.0.1', port: server.port, path: '/' }, resolve).on('error', reject),
      ),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // a second close is the same, finished close
    await server.close();
    expect(order).toEqual(['onShutdown', 'closed']);
  });
});
