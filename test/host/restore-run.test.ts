/**
 * restore.plan, restore.start, restore.preview and restore.download through the shared dispatch core (the
 * contract validates every request and answer), against a real hosted BackupService on temp folders, and
 * the download links through the real HTTP server of `bulwark serve`.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import zlib from 'node:zlib';

import { afterEach, describe, expect, it } from 'vitest';

import { createHandlers } from '../../src-main/app/handlers.ts';
import type { Result } from '../../src-main/contract/result.ts';
import { FakeClock, localPaths } from '../../src-main/engine/index.ts';
import { openHostedService, type HostedService } from '../../src-main/host/service.ts';
import { dispatch, type Handlers } from '../../src-main/transport/dispatch.ts';
import { createHttpServer, type HttpServer } from '../../src-main/transport/http/server.ts';
import { TEST_KDF } from '../engine/helpers/repo.ts';
import { tempDir } from '../engine/service/helpers/util.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

type Call = <C extends keyof Handlers>(channel: C, request: unknown) => Promise<Result<OkValue<C>>>;
type OkValue<C extends keyof Handlers> = Extract<Awaited<ReturnType<Handlers[C]>>, { ok: true }>['value'];

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(3000)]);
const BIG_JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(3 << 20)]);
const LONG_TEXT = 'Meeting notes — é\n'.repeat(20_000); // ~380 KB of UTF-8, two-byte characters included

interface Env {
  hosted: HostedService;
  call: Call;
  clock: FakeClock;
  data: string;
  dir: string;
  sourceId: string;
  snapshotId: string;
}

async function setup(opts: { downloads?: boolean } = {}): Promise<Env> {
  const t = tempDir('restore-host');
  cleanups.push(() => t.cleanup());
  const data = join(t.dir, 'data');
  mkdirSync(join(data, 'sub'), { recursive: true });
  mkdirSync(join(data, 'empty'));
  writeFileSync(join(data, 'a.txt'), 'alpha\n');
  writeFileSync(join(data, 'sub', 'b.txt'), 'bravo\n');
  writeFileSync(join(data, 'notes.bin'), 'plain text, whatever the name says\n');
  writeFileSync(join(data, 'long.txt'), LONG_TEXT);
  writeFileSync(join(data, 'photo.txt'), PNG); // a picture, whatever the name says
  writeFileSync(join(data, 'big.jpg'), BIG_JPEG);
  writeFileSync(join(data, 'blob.dat'), Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(5000)]));
  writeFileSync(join(data, 'sub', 'r\u00e9sum\u00e9 "v2".bin'), randomBytes(300_000));
  const clock = new FakeClock(Date.UTC(2026, 10, 28, 13, 0));
  const hosted = openHostedService({
    paths: localPaths({ BULWARK_HOME: join(t.dir, 'home') }),
    kdf: TEST_KDF,
    clock,
    tuning: { watch: { enabled: false }, backup: { readers: 2 }, progressIntervalMs: 10 },
    ...(opts.downloads === false ? {} : { downloads: true }),
  });
  cleanups.push(() => hosted.stop());
  await hosted.prepare();
  const call: Call = (channel, request) =>
    dispatch(hosted.handlers as Partial<Handlers>, channel, request) as never;
  const source = value(await call('bulwark:sources.add', { name: 'Office', paths: [data] })).source;
  const job = value(await call('bulwark:jobs.runNow', { sourceId: source.id })).job;
  const done = await hosted.service.waitForJob(job.id);
  expect(done.state).toBe('SUCCEEDED');
  return { hosted, call, clock, data, dir: t.dir, sourceId: source.id, snapshotId: done.snapshotId! };
}

describe('restore handlers (src-main/host/restore-run.ts)', () => {
  it('restore.plan lists create, identical and conflict; restore.start runs the job; jobs.list has its summary', async () => {
    const e = await setup();
    const out = join(e.dir, 'out');
    mkdirSync(join(out, 'data', 'sub'), { recursive: true });
    writeFileSync(join(out, 'data', 'sub', 'b.txt'), 'changed\n');

    const refused = await e.call('bulwark:restore.plan', {
      sourceId: e.sourceId,
      snapshotId: e.snapshotId,
      paths: ['data/sub'],
      destination: { kind: 'folder', path: 'relative/folder' },
    });
    expect(refused).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });

    const plan = value(
      await e.call('bulwark:restore.plan', {
        sourceId: e.sourceId,
        snapshotId: e.snapshotId,
        paths: ['data/sub', 'data/a.txt'],
        destination: { kind: 'folder', path: join(out, 'data') },
      }),
    );
    expect(plan.destination).toBe(join(out, 'data'));
    expect(plan.totals).toMatchObject({ files: 3, create: 2, identical: 0, conflicts: 1 });
    expect(plan.truncated).toBe(false);
    expect(plan.items[0]).toMatchObject({
      path: 'data/sub/b.txt',
      destination: join(out, 'data', 'sub', 'b.txt'),
      type: 'file',
      action: 'conflict',
      size: 6,
      existing: { size: 8 },
    });
    expect(plan.items.slice(1).map((i) => [i.path, i.action])).toEqual(
      expect.arrayContaining([
        ['data/a.txt', 'create'],
        [expect.stringMatching(/^data\/sub\/r.sum. "v2"\.bin$/), 'create'],
      ]),
    );

    const started = value(await e.call('bulwark:restore.start', { planId: plan.planId, onConflict: 'skip' }));
    expect(started.job).toMatchObject({ kind: 'restore', sourceId: e.sourceId, state: 'running' });
    await e.hosted.service.waitForJob(started.job.id);
    const listed = value(await e.call('bulwark:jobs.list', { sourceId: e.sourceId }));
    const job = listed.jobs.find((j) => j.id === started.job.id);
    expect(job).toMatchObject({
      kind: 'restore',
      state: 'succeeded',
      restore: {
        restored: 2,
        skipped: 1,
        failed: 0,
        keptBoth: 0,
        failures: [],
        destination: join(out, 'data'),
      },
    });
    expect(readFileSync(join(out, 'data', 'sub', 'b.txt'), 'utf8')).toBe('changed\n');
    expect(readFileSync(join(out, 'data', 'a.txt'), 'utf8')).toBe('alpha\n');

    const reused = await e.call('bulwark:restore.start', { planId: plan.planId, onConflict: 'skip' });
    expect(reused).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('restore.preview: text (cut at 256 KiB), pictures as data URLs up to 2 MiB, the rest "other", by content', async () => {
    const e = await setup();
    const preview = (path: string) =>
      e.call('bulwark:restore.preview', { sourceId: e.sourceId, snapshotId: e.snapshotId, path });

    expect(value(await preview('data/a.txt'))).toEqual({
      name: 'a.txt',
      size: 6,
      kind: 'text',
      mime: 'text/plain',
      text: 'alpha\n',
      truncated: false,
    });
    expect(value(await preview('data/notes.bin'))).toMatchObject({
      kind: 'text',
      text: 'plain text, whatever the name says\n',
    });

    const long = value(await preview('data/long.txt'));
    expect(long).toMatchObject({ kind: 'text', truncated: true, size: Buffer.byteLength(LONG_TEXT) });
    expect(Buffer.byteLength(long.text!)).toBeLessThanOrEqual(256 << 10);
    expect(Buffer.byteLength(long.text!)).toBeGreaterThan((256 << 10) - 4);
    expect(LONG_TEXT.startsWith(long.text!)).toBe(true); // no character cut in half

    const photo = value(await preview('data/photo.txt'));
    expect(photo).toMatchObject({ kind: 'image', mime: 'image/png', truncated: false });
    expect(photo.dataUrl).toBe(`data:image/png;base64,${PNG.toString('base64')}`);

    const big = value(await preview('data/big.jpg'));
    expect(big).toMatchObject({ kind: 'image', mime: 'image/jpeg', size: BIG_JPEG.length });
    expect(big.dataUrl).toBeUndefined();

    expect(value(await preview('data/blob.dat'))).toMatchObject({ kind: 'other', mime: 'application/pdf' });
    const folder = await preview('data/sub');
    expect(folder).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    const missing = await preview('data/nope.txt');
    expect(missing).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('restore.download answers UNSUPPORTED in the desktop app (it has no HTTP server)', async () => {
    const e = await setup({ downloads: false });
    const r = await e.call('bulwark:restore.download', {
      sourceId: e.sourceId,
      snapshotId: e.snapshotId,
      path: 'data/a.txt',
    });
    expect(r).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED' } });
    const app = createHandlers(
      { name: 'Bulwark', version: '1', platform: 'linux', versions: { node: '24' } },
      e.hosted.handlers,
    );
    const viaApp = await dispatch(app, 'bulwark:restore.download', {
      sourceId: e.sourceId,
      snapshotId: e.snapshotId,
      path: 'data/a.txt',
    });
    expect(viaApp).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED' } });
  });
});

// ---- downloads through the HTTP server -----------------------------------------------------------------

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'GET', path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const TOKEN = randomBytes(32).toString('base64url');

/** The entries of a zip (its central directory; stored entries only), each checked against its CRC-32. */
function readZip(zip: Buffer): Map<string, Buffer> {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  expect(eocd).toBeGreaterThan(0);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30);
    const comment = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    expect(method).toBe(0);
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataAt, dataAt + size);
    expect(zlib.crc32(data)).toBe(crc);
    out.set(name, data);
    at += 46 + nameLength + extra + comment;
  }
  return out;
}

async function serve(e: Env): Promise<HttpServer> {
  const server = await createHttpServer({
    handlers: e.hosted.handlers,
    events: e.hosted.events,
    downloads: e.hosted.downloads,
    token: TOKEN,
    port: 0,
  });
  cleanups.push(() => server.close());
  return server;
}

describe('download links (GET /download/<ticket>)', () => {
  it('stream a file once, expire, never take the token, and apply the Host check', async () => {
    const e = await setup();
    const server = await serve(e);
    const link = value(
      await e.call('bulwark:restore.download', {
        sourceId: e.sourceId,
        snapshotId: e.snapshotId,
        path: 'data/sub/r\u00e9sum\u00e9 "v2".bin',
      }),
    );
    expect(link.url).toMatch(/^\/download\/[A-Za-z0-9_-]{43}$/);
    expect(link.url).not.toContain(TOKEN);
    expect(link.name).toBe('r\u00e9sum\u00e9 "v2".bin');
    expect(Date.parse(link.expiresAt) - e.clock.now().getTime()).toBe(5 * 60_000);

    // another Host (DNS rebinding) is refused before the ticket is even looked at
    const rebound = await get(server.port, link.url, { Host: `evil.example:${server.port}` });
    expect(rebound.status).toBe(403);

    const first = await get(server.port, link.url);
    expect(first.status).toBe(200);
    expect(first.body.equals(readFileSync(join(e.data, 'sub', 'r\u00e9sum\u00e9 "v2".bin')))).toBe(true);
    expect(first.headers['content-length']).toBe(String(first.body.length));
    expect(first.headers['content-type']).toBe('application/octet-stream');
    expect(first.headers['content-disposition']).toBe(
      `attachment; filename="r_sum_ _v2_.bin"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.bin`,
    );
    expect(first.headers['cache-control']).toBe('no-store');

    const second = await get(server.port, link.url);
    expect(second.status).toBe(404); // once
    expect(JSON.parse(second.body.toString())).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });

    // a few minutes only
    const later = value(
      await e.call('bulwark:restore.download', {
        sourceId: e.sourceId,
        snapshotId: e.snapshotId,
        path: 'data/a.txt',
      }),
    );
    e.clock.advance(5 * 60_000 + 1);
    expect((await get(server.port, later.url)).status).toBe(404);

    // the API token is never a download credential, not even the shape of a ticket
    const token = await get(server.port, `/download/${TOKEN}`);
    expect(token.status).toBe(403);
    expect(JSON.parse(token.body.toString())).toMatchObject({ ok: false, error: { code: 'PERMISSION' } });
    expect((await get(server.port, `/download/${randomBytes(32).toString('base64url')}`)).status).toBe(404);
    // nor is it taken as a header instead of a ticket
    const bearer = await get(server.port, '/download/', { Authorization: `Bearer ${TOKEN}` });
    expect(bearer.status).toBe(404);

    const missing = await e.call('bulwark:restore.download', {
      sourceId: e.sourceId,
      snapshotId: e.snapshotId,
      path: 'data/none.txt',
    });
    expect(missing).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('stream a folder as a valid zip with the right bytes', async () => {
    const e = await setup();
    const server = await serve(e);
    const link = value(
      await e.call('bulwark:restore.download', {
        sourceId: e.sourceId,
        snapshotId: e.snapshotId,
        path: 'data',
      }),
    );
    expect(link.name).toBe('data.zip');
    const got = await get(server.port, link.url);
    expect(got.status).toBe(200);
    expect(got.headers['content-type']).toBe('application/zip');
    expect(got.headers['content-disposition']).toContain('filename="data.zip"');
    expect(got.headers['content-length']).toBe(String(got.body.length)); // known before it was sent
    // read back with a parser of our own (stored entries: no inflate needed), CRCs checked
    const entries = readZip(got.body);
    expect(entries.get('data/a.txt')?.toString()).toBe('alpha\n');
    expect(entries.get('data/big.jpg')?.equals(BIG_JPEG)).toBe(true);
    expect(entries.get('data/sub/r\u00e9sum\u00e9 %22v2%22.bin')?.length).toBe(300_000);
    expect(entries.has('data/empty/')).toBe(true);
    // and with unzip, where it is installed
    if (spawnSync('unzip', ['-v']).status !== 0) return;
    const zip = join(e.dir, 'data.zip');
    writeFileSync(zip, got.body);
    const test = spawnSync('unzip', ['-t', zip]);
    expect(test.status, test.stdout.toString() + test.stderr.toString()).toBe(0);
    const out = join(e.dir, 'unzipped');
    expect(spawnSync('unzip', ['-q', zip, '-d', out]).status).toBe(0);
    const files = (readdirSync(join(e.data), { recursive: true }) as string[]).filter((f) =>
      statSync(join(e.data, f)).isFile(),
    );
    expect(files.length).toBe(8);
    // names are made portable: what Windows cannot hold ('"' here) is written %XX
    for (const f of files) {
      const inZip = join(out, 'data', f.replaceAll('"', '%22'));
      expect(readFileSync(inZip).equals(readFileSync(join(e.data, f)))).toBe(true);
    }
    expect(statSync(join(out, 'data', 'empty')).isDirectory()).toBe(true);
  });
});
