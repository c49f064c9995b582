/**
 * S3Store against a real S3 server with Object Lock: Ceph RGW started by test/harness/rgw.ts (one per
 * test run with the global setup test/harness/rgw-global-setup.ts, else one for this file).
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import {
  GetObjectRetentionCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { isBulwarkError, type BulwarkError, type ErrorCode } from '../../../src-main/engine/errors.ts';
import {
  createRequestRecorder,
  S3Store,
  type RecordedRequest,
  type S3StoreOptions,
} from '../../../src-main/engine/storage/s3.ts';
import { describeBlobStoreConformance } from '../../conformance/storage-suite.ts';
import { acquireRgw, uniqueBucketName, type RgwHandle } from '../../harness/rgw.ts';

const MiB = 1024 * 1024;
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

let rgw: RgwHandle | undefined;
let lockBucket = '';
let plainBucket = '';
let tmp = '';
const stores: S3Store[] = [];

beforeAll(async () => {
  rgw = await acquireRgw(inject('rgw'));
  lockBucket = uniqueBucketName('lock');
  plainBucket = uniqueBucketName('plain');
  await rgw.createBucket(lockBucket, { objectLock: true });
  await rgw.createBucket(plainBucket, { objectLock: false });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
}, 180_000);

afterAll(async () => {
  for (const s of stores.splice(0)) await s.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  await rgw?.release();
});

function conn(): RgwHandle {
  if (!rgw) throw new Error('RGW not started');
  return rgw;
}

/** A store on this run's RGW (closed after the file), in its own random prefix unless given one. */
function makeStore(opts: Partial<S3StoreOptions> = {}): S3Store {
  const r = conn();
  const store = new S3Store({
    bucket: lockBucket,
    prefix: `t-${randomBytes(4).toString('hex')}`,
    endpoint: r.endpoint,
    region: r.region,
    credentials: { accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey },
    ...opts,
  });
  stores.push(store);
  return store;
}

async function codeOf(p: Promise<unknown>): Promise<ErrorCode | 'ok' | 'not a BulwarkError'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return isBulwarkError(e) ? e.code : 'not a BulwarkError';
  }
}

async function errorOf(p: Promise<unknown>): Promise<BulwarkError> {
  try {
    await p;
  } catch (e) {
    if (isBulwarkError(e)) return e;
    throw new Error(`expected a BulwarkError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected a BulwarkError, but the call succeeded');
}

function md5(data: Uint8Array): string {
  return createHash('md5').update(data).digest('base64');
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** random file of `size` bytes written in 1 MiB pieces */
function makeFile(size: number): { path: string; size: number; md5: string; sha: string } {
  const file = path.join(tmp, `body-${randomBytes(6).toString('hex')}`);
  const m = createHash('md5');
  const s = createHash('sha256');
  const fd = fs.openSync(file, 'w');
  try {
    for (let done = 0; done < size;) {
      const piece = randomBytes(Math.min(MiB, size - done));
      m.update(piece);
      s.update(piece);
      fs.writeSync(fd, piece);
      done += piece.length;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { path: file, size, md5: m.digest('base64'), sha: s.digest('hex') };
}

async function collectNames(store: S3Store, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const info of store.list(prefix)) names.push(info.name);
  return names.sort();
}

function puts(reqs: RecordedRequest[]): RecordedRequest[] {
  return reqs.filter((r) => r.method === 'PUT' && !('retention' in r.query) && !('legal-hold' in r.query));
}

/** A TCP port on 127.0.0.1 with nothing listening (bound, then released). */
async function deadPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 1));
    });
  });
}

// --- the BlobStore contract ---------------------------------------------------------------------------

describeBlobStoreConformance(
  'S3Store (Ceph RGW, Object Lock bucket)',
  async () => ({ store: makeStore({ prefix: 'conformance' }), cleanup: async () => {} }),
  // RGW 16 ignores If-None-Match on versioned (= Object Lock) buckets, so the HEAD-then-PUT check of
  // non-random names cannot stop two concurrent writers (repository names are random by construction).
  {
    enforcesRetention: true,
    concurrentWriteOnce: false,
    // a raw PutObject with the same keys: a new current version, the original stays
    forgeVersion: async (store, name, data) => {
      const s3 = store as S3Store;
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: s3.root + name, Body: data }));
    },
  },
);

// --- S3 specifics ------------------------------------------------------------------------------------------

describe('S3Store on Ceph RGW', () => {
  it('round-trips bytes and files, with names relative to the prefix', async () => {
    const store = makeStore();
    expect(store.location).toBe(`s3://${lockBucket}/${store.root.slice(0, -1)}`);
    const data = randomBytes(1234);
    await store.put('snapshots/s1', data);
    const file = makeFile(2 * MiB + 5);
    await store.put('packs/ab/ab01', { path: file.path, size: file.size });
    expect((await store.get('snapshots/s1')).equals(data)).toBe(true);
    expect(sha256(await store.get('packs/ab/ab01'))).toBe(file.sha);

    const info = await store.head('packs/ab/ab01');
    expect(info).toMatchObject({ name: 'packs/ab/ab01', size: file.size });
    expect(info.modified).toBeInstanceOf(Date);
    expect(info.retainUntil).toBeUndefined();

    expect(await collectNames(store, '')).toEqual(['packs/ab/ab01', 'snapshots/s1']);
    expect(await collectNames(store, 'packs/')).toEqual(['packs/ab/ab01']);
    // another prefix in the same bucket sees nothing of this one
    expect(await collectNames(makeStore(), '')).toEqual([]);
  });

  it('lists across many pages (ListObjectsV2 continuation), each name once', async () => {
    const rec = createRequestRecorder();
    const store = makeStore({ listPageSize: 7, onRequest: rec.onRequest });
    const names = Array.from({ length: 25 }, (_, i) => `index/${i.toString().padStart(2, '0')}`);
    await Promise.all(names.map((n) => store.put(n, randomBytes(3))));
    await store.put('config', randomBytes(3));
    rec.clear();
    expect(await collectNames(store, 'index/')).toEqual(names);
    const lists = rec.requests.filter((r) => r.method === 'GET' && r.query['list-type'] === '2');
    expect(lists).toHaveLength(4); // 7 + 7 + 7 + 4
    expect(lists.slice(1).every((r) => typeof r.query['continuation-token'] === 'string')).toBe(true);
  });

  it('a prefetched listing gives its first page to the next listing of that prefix, once, and paging goes on', async () => {
    const rec = createRequestRecorder();
    let now = 0;
    const store = makeStore({ listPageSize: 3, onRequest: rec.onRequest, now: () => now });
    const names = Array.from({ length: 7 }, (_, i) => `index/${i}`);
    for (const n of names) await store.put(n, randomBytes(3));
    const versionLists = (): RecordedRequest[] =>
      rec.requests.filter((r) => r.method === 'GET' && 'versions' in r.query);
    const listNames = async (prefix: string): Promise<string[]> => {
      const out: string[] = [];
      for await (const v of store.versions.listVersions(prefix)) out.push(v.name);
      return out;
    };

    rec.clear();
    store.prefetchListings(['index/']);
    expect(await listNames('index/')).toEqual(names);
    // 3 + 3 + 1: the first page was the prefetched one (4 requests had the listing asked for it again)
    expect(versionLists()).toHaveLength(3);

    // taken once: the first page was listed before "index/00" was written (it sorts into that page); the
    // listing after it asks again and sees it
    store.prefetchListings(['index/']);
    await new Promise((res) => setTimeout(res, 300));
    await store.put('index/00', randomBytes(3));
    expect(await listNames('index/')).toEqual(names);
    const withNew = ['index/0', 'index/00', ...names.slice(1)];
    expect(await listNames('index/')).toEqual(withNew);

    // a prefetched page older than 10 s is not used
    store.prefetchListings(['index/']);
    await new Promise((res) => setTimeout(res, 300));
    await store.put('index/01', randomBytes(3));
    now += 10_001;
    expect(await listNames('index/')).toEqual(['index/0', 'index/00', 'index/01', ...names.slice(1)]);

    // a prefetch nobody took goes stale, and asking again replaces it
    store.prefetchListings(['index/']);
    await new Promise((res) => setTimeout(res, 300));
    now += 10_001;
    await store.put('index/02', randomBytes(3));
    store.prefetchListings(['index/']);
    await new Promise((res) => setTimeout(res, 300));
    rec.clear();
    const all = ['index/0', 'index/00', 'index/01', 'index/02', ...names.slice(1)];
    expect(await listNames('index/')).toEqual(all);
    expect(versionLists()).toHaveLength(3); // 10 names in pages of 3: the first page came from the new one
  });

  it("a prefetched listing's failure is the failure of the listing that takes it", async () => {
    const r = conn();
    const missing = new S3Store({
      bucket: uniqueBucketName('missing'),
      endpoint: r.endpoint,
      region: r.region,
      credentials: { accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey },
      maxAttempts: 1,
    });
    stores.push(missing);
    const listAll = async (): Promise<void> => {
      for await (const v of missing.versions.listVersions('index/')) void v;
    };
    const without = await codeOf(listAll());
    expect(without).not.toBe('ok');
    missing.prefetchListings(['index/']);
    await new Promise((res) => setTimeout(res, 200)); // failed before anyone asked: no unhandled rejection
    expect(await codeOf(listAll())).toBe(without);
  });

  it('reads ranges and refuses ranges past the end', async () => {
    const store = makeStore();
    const data = randomBytes(1000);
    await store.put('index/i1', data);
    expect((await store.get('index/i1', { offset: 10, length: 90 })).equals(data.subarray(10, 100))).toBe(
      true,
    );
    expect((await store.get('index/i1', { offset: 999, length: 1 })).equals(data.subarray(999))).toBe(true);
    expect((await store.get('index/i1', { offset: 1000, length: 0 })).length).toBe(0);
    expect(await codeOf(store.get('index/i1', { offset: 1000, length: 1 }))).toBe('INVALID_ARGUMENT'); // 416
    expect(await codeOf(store.get('index/i1', { offset: 990, length: 20 }))).toBe('INVALID_ARGUMENT'); // short
    expect(await codeOf(store.get('index/i1', { offset: 1001, length: 0 }))).toBe('INVALID_ARGUMENT');
  });

  it("hands a range to the caller's sink as it arrives, and refuses a range past the end", async () => {
    const store = makeStore();
    const data = randomBytes(300_000); // several chunks of the HTTP body
    await store.put('index/i3', data);
    const got = Buffer.alloc(150_000);
    const places: number[] = [];
    const sink = (chunk: Uint8Array, at: number): void => {
      places.push(at, chunk.length);
      got.set(chunk, at);
    };
    const out = await store.get('index/i3', { offset: 100_000, length: 150_000, sink });
    expect(out.length).toBe(0); // nothing kept: the bytes went to the sink
    expect(got.equals(data.subarray(100_000, 250_000))).toBe(true);
    expect(places.length).toBeGreaterThan(2); // in chunks, as they came
    for (let i = 0, next = 0; i < places.length; i += 2) {
      expect(places[i]).toBe(next); // in order, each where the previous ended
      next += places[i + 1]!;
    }
    places.length = 0;
    expect(await codeOf(store.get('index/i3', { offset: 299_990, length: 20, sink }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(places).toEqual([]); // a short answer never reaches the sink
  });

  it('reports NOT_FOUND for missing names', async () => {
    const store = makeStore();
    expect(await codeOf(store.get('config'))).toBe('NOT_FOUND');
    expect(await codeOf(store.get('config', { offset: 0, length: 4 }))).toBe('NOT_FOUND');
    expect(await codeOf(store.head('config'))).toBe('NOT_FOUND');
    expect(await codeOf(store.extendRetention('config', new Date(Date.now() + DAY), 'COMPLIANCE'))).toBe(
      'NOT_FOUND',
    );
    await store.delete('config'); // idempotent
  });

  it('checks existence with a HEAD before writing non-random names only (write-once)', async () => {
    const rec = createRequestRecorder();
    const store = makeStore({ onRequest: rec.onRequest });
    await store.put('config', Buffer.from('first'));
    expect(rec.requests.map((r) => r.method)).toEqual(['HEAD', 'PUT']);
    const e = await errorOf(store.put('config', Buffer.from('second')));
    expect(e.code).toBe('ALREADY_EXISTS');
    expect((await store.get('config')).toString()).toBe('first');

    rec.clear();
    for (const name of ['packs/00/0001', 'index/0002', 'snapshots/0003']) {
      await store.put(name, randomBytes(10));
    }
    expect(rec.requests.map((r) => r.method)).toEqual(['PUT', 'PUT', 'PUT']);
  });

  it('sends Content-MD5 and the lock headers on every PutObject, and never uses multipart', async () => {
    const rec = createRequestRecorder();
    const store = makeStore({ onRequest: rec.onRequest });
    const until = new Date(Date.now() + DAY);
    const small = randomBytes(100);
    const file = makeFile(5 * MiB + 1);
    const file2 = makeFile(1000);
    await store.put('packs/a1', small, { retainUntil: until, lockMode: 'COMPLIANCE' });
    await store.put(
      'packs/a2',
      { path: file.path, size: file.size },
      { retainUntil: until, lockMode: 'GOVERNANCE' },
    );
    await store.put('packs/a3', { path: file2.path, size: file2.size }, { contentMd5: file2.md5 });
    await store.put('config', Buffer.alloc(0));

    const sent = puts(rec.requests);
    expect(sent).toHaveLength(4);
    expect(sent.map((r) => r.headers['content-md5'])).toEqual([
      md5(small),
      file.md5,
      file2.md5,
      md5(Buffer.alloc(0)),
    ]);
    expect(sent.map((r) => r.headers['content-length'])).toEqual(['100', String(file.size), '1000', '0']);
    expect(sent.map((r) => r.headers['x-amz-object-lock-mode'])).toEqual([
      'COMPLIANCE',
      'GOVERNANCE',
      undefined,
      undefined,
    ]);
    for (const r of sent.slice(0, 2)) {
      expect(new Date(r.headers['x-amz-object-lock-retain-until-date'] ?? '').getTime()).toBe(
        until.getTime(),
      );
    }
    expect(sent[2]?.headers['x-amz-object-lock-retain-until-date']).toBeUndefined();
    // one PUT per object: no CreateMultipartUpload (?uploads) or UploadPart (?partNumber)
    expect(rec.requests.some((r) => 'uploads' in r.query || 'partNumber' in r.query)).toBe(false);
    // no aws-chunked framing or trailing checksums (requestChecksumCalculation WHEN_REQUIRED)
    for (const r of sent) {
      expect(r.headers['content-encoding']).toBeUndefined();
      expect(r.headers['x-amz-trailer']).toBeUndefined();
    }
    // the server holds what was sent, locked as asked
    const info = await store.head('packs/a2');
    expect(info).toMatchObject({ size: file.size, lockMode: 'GOVERNANCE' });
    expect(info.retainUntil?.getTime()).toBe(until.getTime());
    expect((await store.head('packs/a1')).lockMode).toBe('COMPLIANCE');
  });

  it('fails with CORRUPT when the body does not match the Content-MD5 given (and stores nothing)', async () => {
    const store = makeStore();
    const e = await errorOf(
      store.put('packs/bad', randomBytes(50), { contentMd5: md5(Buffer.from('other')) }),
    );
    expect(e.code).toBe('CORRUPT');
    expect(await codeOf(store.head('packs/bad'))).toBe('NOT_FOUND');
    const file = makeFile(100);
    expect(await codeOf(store.put('packs/f', { path: file.path, size: 99 }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(store.put('packs/g', { path: path.join(tmp, 'missing'), size: 1 }))).toBe(
      'NOT_FOUND',
    );
  });

  it('keeps a COMPLIANCE-locked object: delete is LOCKED, retention extends but never shortens', async () => {
    const store = makeStore();
    const now = await store.serverTime();
    const until = new Date(now.getTime() + DAY);
    const data = randomBytes(64);
    await store.put('packs/locked', data, { retainUntil: until, lockMode: 'COMPLIANCE' });

    const e = await errorOf(store.delete('packs/locked'));
    expect(e.code).toBe('LOCKED');
    expect(e.message).toContain(until.toISOString());
    expect((await store.get('packs/locked')).equals(data)).toBe(true);

    const later = new Date(now.getTime() + 2 * DAY);
    await store.extendRetention('packs/locked', later, 'COMPLIANCE');
    let info = await store.head('packs/locked');
    expect(info.retainUntil?.getTime()).toBe(later.getTime());
    expect(info.lockMode).toBe('COMPLIANCE');

    // asking for less is a no-op, and asking for GOVERNANCE never weakens COMPLIANCE
    await store.extendRetention('packs/locked', new Date(now.getTime() + HOUR), 'COMPLIANCE');
    const evenLater = new Date(now.getTime() + 3 * DAY);
    await store.extendRetention('packs/locked', evenLater, 'GOVERNANCE');
    info = await store.head('packs/locked');
    expect(info.retainUntil?.getTime()).toBe(evenLater.getTime());
    expect(info.lockMode).toBe('COMPLIANCE');

    // and the server itself refuses to shorten (the adapter's no-op is not what protects the object)
    const key = `${store.root}packs/locked`;
    await expect(
      store.client.send(
        new PutObjectRetentionCommand({
          Bucket: lockBucket,
          Key: key,
          Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(now.getTime() + HOUR) },
        }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    const r = await store.client.send(new GetObjectRetentionCommand({ Bucket: lockBucket, Key: key }));
    expect(r.Retention?.RetainUntilDate?.getTime()).toBe(evenLater.getTime());
    expect(await codeOf(store.delete('packs/locked'))).toBe('LOCKED');
  });

  it('honours a legal hold (LOCKED while on) and deletes for real once it is lifted', async () => {
    const store = makeStore();
    await store.put('snapshots/held', randomBytes(10));
    await store.setLegalHold('snapshots/held', true);
    expect((await store.head('snapshots/held')).legalHold).toBe(true);
    expect(await codeOf(store.delete('snapshots/held'))).toBe('LOCKED');
    await store.setLegalHold('snapshots/held', false);
    expect((await store.head('snapshots/held')).legalHold).toBe(false);
    await store.delete('snapshots/held');
    expect(await codeOf(store.head('snapshots/held'))).toBe('NOT_FOUND');
    // deleted by version id: no version and no delete marker is left behind
    const v = await store.client.send(
      new ListObjectVersionsCommand({ Bucket: lockBucket, Prefix: `${store.root}snapshots/held` }),
    );
    expect(v.Versions ?? []).toEqual([]);
    expect(v.DeleteMarkers ?? []).toEqual([]);
  });

  it('deletes every version of a name, so an older one does not resurface', async () => {
    const store = makeStore();
    await store.put('packs/twice', Buffer.from('one'));
    await store.put('packs/twice', Buffer.from('two')); // random names skip the HEAD: a second version
    await store.delete('packs/twice');
    expect(await codeOf(store.head('packs/twice'))).toBe('NOT_FOUND');
  });

  it('refuses a locked put on a bucket without Object Lock (UNSUPPORTED) and stores nothing', async () => {
    const r = conn();
    const store = makeStore({ bucket: plainBucket });
    const e = await errorOf(
      store.put('packs/p', randomBytes(10), {
        retainUntil: new Date(Date.now() + DAY),
        lockMode: 'COMPLIANCE',
      }),
    );
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toContain('Object Lock');
    expect(e.hint).toBeTruthy();
    expect(await codeOf(store.head('packs/p'))).toBe('NOT_FOUND');
    // unlocked puts work there, and retention cannot be added afterwards either
    await store.put('packs/q', randomBytes(10));
    expect(await codeOf(store.extendRetention('packs/q', new Date(Date.now() + DAY), 'COMPLIANCE'))).toBe(
      'UNSUPPORTED',
    );
    await store.delete('packs/q');
    expect(await codeOf(store.head('packs/q'))).toBe('NOT_FOUND');
    expect(r.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses a retention date in the past (INVALID_ARGUMENT)', async () => {
    const store = makeStore();
    const e = await errorOf(
      store.put('packs/past', randomBytes(10), {
        retainUntil: new Date(Date.now() - HOUR),
        lockMode: 'COMPLIANCE',
      }),
    );
    expect(e.code).toBe('INVALID_ARGUMENT');
  });

  it('reports a missing bucket as REPO_NOT_FOUND with a hint', async () => {
    const store = makeStore({ bucket: uniqueBucketName('missing') });
    for (const p of [
      () => store.get('config'),
      () => store.put('config', Buffer.from('x')),
      () => store.put('packs/x', Buffer.from('x')),
      () => store.serverTime(),
      () => collectNames(store, ''),
    ]) {
      const e = await errorOf(p());
      expect(e.code).toBe('REPO_NOT_FOUND');
      expect(e.hint).toMatch(/bucket/i);
    }
  });

  it('reports wrong keys as PERMISSION, and another user’s bucket as PERMISSION', async () => {
    const wrong = makeStore({ credentials: { accessKeyId: 'NOSUCHKEY', secretAccessKey: 'nope' } });
    expect(await codeOf(wrong.get('config'))).toBe('PERMISSION');
    expect(await codeOf(wrong.head('config'))).toBe('PERMISSION');
    const other = await conn().createUser(`other-${randomBytes(3).toString('hex')}`);
    const stranger = makeStore({ credentials: other });
    const e = await errorOf(stranger.put('packs/x', Buffer.from('x')));
    expect(e.code).toBe('PERMISSION');
    expect(e.hint).toBeTruthy();
  });

  it('reports an endpoint with nothing listening as NETWORK, quickly', async () => {
    const port = await deadPort();
    const store = makeStore({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 2 });
    const file = makeFile(1000);
    const t0 = performance.now();
    for (const p of [
      () => store.get('config'),
      () => store.put('config', Buffer.from('x')),
      () => store.put('packs/f', { path: file.path, size: file.size }),
      () => store.serverTime(),
      () => collectNames(store, ''),
    ]) {
      const e = await errorOf(p());
      expect(e.code).toBe('NETWORK');
      expect(e.hint).toBe('check the connection / endpoint');
    }
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('retries a file put whose connection failed, with a fresh stream (the SDK does not retry streams)', async () => {
    let failures = 1;
    const rec = createRequestRecorder();
    const store = makeStore({
      onRequest: (req) => {
        rec.onRequest(req);
        if (req.method === 'PUT' && failures > 0) {
          failures--;
          throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
        }
      },
    });
    const file = makeFile(3 * MiB);
    await store.put('packs/retried', { path: file.path, size: file.size });
    expect(puts(rec.requests)).toHaveLength(2);
    expect(sha256(await store.get('packs/retried'))).toBe(file.sha);
  });

  it('a file gone before a put is retried fails that put in words, and nothing else (no stray stream error)', async () => {
    const file = makeFile(1 * MiB);
    let failures = 1;
    const store = makeStore({
      onRequest: (req) => {
        if (req.method === 'PUT' && failures > 0) {
          failures--;
          fs.rmSync(file.path); // a failed run removes its pack folder while this upload waits for its retry
          throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
        }
      },
    });
    // an 'error' event nobody listens to ends the process; vitest would only report it after the test
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown): void => void uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const err = await errorOf(store.put('packs/gone', { path: file.path, size: file.size }));
      expect(err.code).toBe('NOT_FOUND');
      expect(err.message).toContain(file.path);
      await new Promise((r) => setTimeout(r, 100));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('takes the time from the server and caches the offset', async () => {
    const rec = createRequestRecorder();
    const store = makeStore({ onRequest: rec.onRequest });
    const t = await store.serverTime();
    expect(Math.abs(t.getTime() - Date.now())).toBeLessThan(2000); // same machine
    expect(rec.requests.map((r) => r.method)).toEqual(['HEAD']);
    const t2 = await store.serverTime();
    expect(rec.requests).toHaveLength(1); // cached
    expect(t2.getTime()).toBeGreaterThanOrEqual(t.getTime());
  });

  it('stops a put when its signal aborts (CANCELED)', async () => {
    const store = makeStore();
    const ac = new AbortController();
    const file = makeFile(8 * MiB);
    const p = store.put('packs/aborted', { path: file.path, size: file.size }, { signal: ac.signal });
    ac.abort();
    expect(await codeOf(p)).toBe('CANCELED');
  });

  it('puts and gets a 32 MiB file body (throughput)', { timeout: 120_000 }, async () => {
    const store = makeStore();
    const file = makeFile(32 * MiB);
    const t0 = performance.now();
    await store.put(
      'packs/big',
      { path: file.path, size: file.size },
      { retainUntil: new Date(Date.now() + HOUR) },
    );
    const t1 = performance.now();
    const got = await store.get('packs/big');
    const t2 = performance.now();
    expect(got.length).toBe(file.size);
    expect(sha256(got)).toBe(file.sha);
    const mibs = (ms: number): string => (32 / (ms / 1000)).toFixed(0);
    console.info(
      `[s3 throughput] 32 MiB put ${(t1 - t0).toFixed(0)} ms (${mibs(t1 - t0)} MiB/s, incl. MD5), ` +
        `get ${(t2 - t1).toFixed(0)} ms (${mibs(t2 - t1)} MiB/s)`,
    );
  });
});
