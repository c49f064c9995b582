/**
 * S3Store against servers that misbehave without any S3 server behind them: one that accepts connections
 * and never answers (it must fail within its timeouts and retry deadline, with a message saying so), an
 * http server given as https, and endpoints without a scheme.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { isBulwarkError, type BulwarkError } from '../../../src-main/engine/errors.ts';
import { openStore } from '../../../src-main/engine/index.ts';
import { S3Store, type S3StoreOptions } from '../../../src-main/engine/storage/s3.ts';

const KEYS = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' };

async function errorOf(p: Promise<unknown>): Promise<BulwarkError> {
  try {
    await p;
  } catch (e) {
    if (isBulwarkError(e)) return e;
    throw new Error(`expected a BulwarkError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected a BulwarkError, but the call succeeded');
}

/** A TCP server on 127.0.0.1 that accepts every connection, reads what comes and never writes a byte. */
async function silentServer(): Promise<{ port: number; connections(): number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const srv = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.resume(); // swallow the request: a server that took it and froze
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
}

let tmp = '';
const closers: (() => Promise<void> | void)[] = [];

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function store(endpoint: string, opts: Partial<S3StoreOptions> = {}): S3Store {
  const s = new S3Store({ bucket: 'bucket', prefix: 'pc1', endpoint, credentials: KEYS, ...opts });
  closers.push(() => s.close());
  return s;
}

describe('S3Store and a server that stopped answering', () => {
  const timeouts = { connectMs: 500, idleMs: 1000, retryDeadlineMs: 2500 };

  it('fails each kind of request with NETWORK "stopped answering", retried only within the deadline', async () => {
    const srv = await silentServer();
    closers.push(() => srv.close());
    const endpoint = `http://127.0.0.1:${srv.port}`;
    // a store per call: a store that gave up on a silent server answers at once for a while (next test)
    let s = store(endpoint, { timeouts });
    const file = path.join(tmp, 'pack');
    fs.writeFileSync(file, Buffer.alloc(3 * 1024 * 1024, 7));
    const calls: [string, () => Promise<unknown>][] = [
      ['get', () => s.get('config')],
      ['head', () => s.head('config')],
      ['put (memory)', () => s.put('packs/ab/x', Buffer.from('x'))],
      ['put (file)', () => s.put('packs/ab/y', { path: file, size: 3 * 1024 * 1024 })],
      [
        'list',
        async () => {
          for await (const _ of s.list('snapshots/')) {
            /* nothing comes */
          }
        },
      ],
      ['server time', () => s.serverTime()],
    ];
    for (const [what, call] of calls) {
      s = store(endpoint, { timeouts });
      const before = srv.connections();
      const t0 = performance.now();
      const e = await errorOf(call());
      const ms = performance.now() - t0;
      expect(e.code, what).toBe('NETWORK');
      expect(e.message, what).toContain(`the server at ${endpoint} stopped answering (no reply for 1 s)`);
      expect(e.hint, what).toMatch(/frozen|overloaded/);
      // silent attempts of 1 s each, a new one only while the operation is younger than 2.5 s: 3 at most
      const attempts = srv.connections() - before;
      expect(attempts, what).toBeGreaterThanOrEqual(2);
      expect(attempts, what).toBeLessThanOrEqual(3);
      expect(ms, what).toBeGreaterThanOrEqual(1900);
      expect(ms, what).toBeLessThan(6000);
    }
  });
});

describe('S3Store after giving up on a silent server', () => {
  it('fails the next operations at once with the same cause, and asks again once the deadline has passed', async () => {
    const srv = await silentServer();
    closers.push(() => srv.close());
    const endpoint = `http://127.0.0.1:${srv.port}`;
    const s = store(endpoint, { timeouts: { connectMs: 500, idleMs: 1000, retryDeadlineMs: 2500 } });
    const first = await errorOf(s.get('config'));
    expect(first.message).toContain('stopped answering');
    // what a failed backup does next (its audit entry asks the server's time): no second wait of minutes
    const before = srv.connections();
    const t0 = performance.now();
    const next = await errorOf(s.serverTime());
    expect(performance.now() - t0).toBeLessThan(200);
    expect(srv.connections()).toBe(before);
    expect(next.code).toBe('NETWORK');
    expect(next.message).toContain(`the server at ${endpoint} stopped answering`);
    expect(next.message).toContain('not asked again for a minute');
    expect(next.hint).toMatch(/frozen|overloaded/);
    // after the window the server is asked again
    await new Promise((r) => setTimeout(r, 2600));
    const later = await errorOf(s.head('config'));
    expect(later.message).not.toContain('not asked again');
    expect(srv.connections()).toBeGreaterThan(before);
  });
});

describe('S3Store: plain messages for a wrong endpoint', () => {
  it('https:// against a plain-HTTP server says so (not OpenSSL’s "wrong version number")', async () => {
    const srv = http.createServer((_req, res) => {
      res.writeHead(200);
      res.end('hello');
    });
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => srv.close(() => resolve())));
    const port = (srv.address() as net.AddressInfo).port;
    const e = await errorOf(store(`https://127.0.0.1:${port}`, { maxAttempts: 1 }).head('config'));
    expect(e.code).toBe('NETWORK');
    expect(e.message).toBe(
      `the server at https://127.0.0.1:${port} does not speak HTTPS; try http://127.0.0.1:${port}`,
    );
    expect(e.message).not.toMatch(/version number|EPROTO/);
  });

  it('refuses an endpoint without http:// or https:// at once (INVALID_ARGUMENT), in openStore and S3Store', async () => {
    for (const endpoint of ['nas.local:9000', '127.0.0.1:9000', 'ftp://nas.local', 'http://']) {
      const viaOpen = await errorOf(openStore('s3://bucket/pc1', { endpoint }));
      expect(viaOpen.code, endpoint).toBe('INVALID_ARGUMENT');
      expect(viaOpen.message, endpoint).toContain(
        'the endpoint needs http:// or https://, e.g. http://nas.local:9000',
      );
      let direct: unknown;
      try {
        new S3Store({ bucket: 'bucket', endpoint, credentials: KEYS });
      } catch (e) {
        direct = e;
      }
      expect(isBulwarkError(direct, 'INVALID_ARGUMENT'), endpoint).toBe(true);
    }
    // the good ones still open
    const ok = await openStore('s3://bucket/pc1', { endpoint: 'https://nas.local:9000' });
    await ok.close?.();
  });
});
