/**
 * Whole backups against a real S3 server with Object Lock (Ceph RGW, test/harness/rgw.ts), directly and
 * through a fault-injecting proxy (test/harness/fault-proxy.ts): round trip and throughput, transient
 * faults (resets, 503 SlowDown, 500), the server going away mid-backup, and the headers of every
 * PutObject (Content-MD5 and the Object Lock pair).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';

import { GetObjectRetentionCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { backup, backupListings } from '../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../src-main/engine/catalog/catalog.ts';
import { isBulwarkError, type BulwarkError } from '../../src-main/engine/errors.ts';
import { restoreSnapshot } from '../../src-main/engine/ops/restore.ts';
import { verifyRepository } from '../../src-main/engine/ops/verify.ts';
import { packIdFromName } from '../../src-main/engine/repo/format.ts';
import { readPackTrailer } from '../../src-main/engine/repo/pack.ts';
import { initRepository, Repository } from '../../src-main/engine/repo/repository.ts';
import { createRequestRecorder, S3Store, type S3StoreOptions } from '../../src-main/engine/storage/s3.ts';
import { startFaultProxy, type FaultProxy, type InjectedFault } from '../harness/fault-proxy.ts';
import { acquireRgw, uniqueBucketName, type RgwHandle } from '../harness/rgw.ts';
import { makeCorpus } from './helpers/corpus.ts';
import { PASSWORD, TEST_KDF, tempDir } from './helpers/repo.ts';

const MiB = 1024 * 1024;
const DAY = 86_400_000;
const LOCK = { mode: 'COMPLIANCE', days: 1, paddingDays: 1 } as const;

let rgw: RgwHandle | undefined;
let bucket = '';
let work = '';
/** scale 0.05 (~65 MiB, ~1000 files): the round trip and its throughput */
let corpus = '';
let corpusBytes = 0;
/** scale 0.01 (~12 MiB, ~200 files): the fault tests (verify --read-data sends one GET per blob) */
let small = '';
const closers: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  rgw = await acquireRgw(inject('rgw'));
  bucket = uniqueBucketName('s3backup');
  await rgw.createBucket(bucket, { objectLock: true });
  work = tempDir('s3backup');
  corpus = join(work, 'corpus');
  makeCorpus(corpus, 0.05); // small scales keep RGW's memstore (RAM) small
  corpusBytes = treeBytes(corpus);
  small = join(work, 'small', 'corpus');
  makeCorpus(small, 0.01, 7);
}, 180_000);

afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  if (work) rmSync(work, { recursive: true, force: true });
  await rgw?.release();
});

function conn(): RgwHandle {
  if (!rgw) throw new Error('RGW not started');
  return rgw;
}

function treeBytes(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) n += treeBytes(p);
    else if (st.isFile()) n += st.size;
  }
  return n;
}

/** An S3Store on the test bucket (through `endpoint` when given, e.g. a fault proxy). */
function makeStore(prefix: string, opts: Partial<S3StoreOptions> = {}): S3Store {
  const r = conn();
  const store = new S3Store({
    bucket,
    prefix,
    endpoint: r.endpoint,
    region: r.region,
    credentials: { accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey },
    ...opts,
  });
  closers.push(() => store.close());
  return store;
}

/** A fresh locked repository in its own prefix, opened with its own catalog. */
async function makeRepo(
  tag: string,
  opts: Partial<S3StoreOptions> = {},
): Promise<{ store: S3Store; repo: Repository; prefix: string }> {
  const prefix = `${tag}-${randomBytes(4).toString('hex')}`;
  const store = makeStore(prefix, opts);
  await initRepository(store, PASSWORD, { kdf: TEST_KDF, lock: LOCK });
  const catalog = Catalog.open(join(work, `${prefix}.db`));
  closers.push(() => catalog.close());
  const repo = await Repository.open(store, PASSWORD, catalog);
  return { store, repo, prefix };
}

async function startProxy(...args: Parameters<typeof startFaultProxy>): Promise<FaultProxy> {
  const proxy = await startFaultProxy(...args);
  closers.push(() => proxy.close());
  return proxy;
}

/** Restores `snapshot` into a fresh folder and checks it is byte-identical to `source` (diff -r). */
async function restoreAndDiff(
  repo: Repository,
  snapshot: string,
  source: string,
): Promise<{ bytes: number; ms: number }> {
  const out = tempDir('s3restore');
  closers.push(() => rmSync(out, { recursive: true, force: true }));
  const t0 = performance.now();
  const r = await restoreSnapshot(repo, { snapshot, target: out });
  const ms = performance.now() - t0;
  expect(r.errors).toEqual([]);
  // throws (with the differences in its message) unless the trees are identical
  execFileSync('diff', ['-r', source, join(out, basename(source))], { stdio: 'pipe' });
  return { bytes: r.bytes, ms };
}

async function packSizes(store: S3Store): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const o of store.list('packs/')) {
    const id = packIdFromName(o.name);
    if (id) out.set(id, o.size);
  }
  return out;
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

const mibps = (bytes: number, ms: number): string => ((bytes / MiB) * (1000 / ms)).toFixed(1);

describe('backups to an S3 Object Lock bucket (Ceph RGW)', () => {
  it('backs up and restores byte-identical; reports throughput', async () => {
    const { repo } = await makeRepo('roundtrip');
    const t0 = performance.now();
    const snap = await backup(repo, { paths: [corpus] });
    const backupMs = performance.now() - t0;
    expect(snap.stats.errorCount).toBe(0);
    expect(snap.stats.bytes).toBe(corpusBytes);
    expect(snap.retainUntil).toBeDefined();

    const restored = await restoreAndDiff(repo, snap.id, corpus);
    expect(restored.bytes).toBe(corpusBytes);
    console.log(
      `[s3-backup] corpus ${(corpusBytes / MiB).toFixed(1)} MiB, ${snap.stats.files} files, ` +
        `${(snap.stats.bytesAdded / MiB).toFixed(1)} MiB uploaded in ${snap.stats.blobsAdded} blobs: ` +
        `backup to RGW ${(backupMs / 1000).toFixed(2)} s = ${mibps(corpusBytes, backupMs)} MiB/s, ` +
        `restore from RGW ${(restored.ms / 1000).toFixed(2)} s = ${mibps(restored.bytes, restored.ms)} MiB/s`,
    );
  }, 60_000);

  it('the fault proxy forwards signed requests unchanged and injects the configured faults', async () => {
    const proxy = await startProxy({ target: conn().endpoint, seed: 3 });
    const store = makeStore(`proxy-${randomBytes(4).toString('hex')}`, {
      endpoint: proxy.endpoint,
      maxAttempts: 1,
    });
    await store.put('data/probe', Buffer.from('probe')); // SigV4 valid through the proxy (Host kept)
    expect((await store.get('data/probe')).toString()).toBe('probe');
    expect(proxy.stats.completed['PUT 200']).toBe(1);

    proxy.setRates({ slowDown: 1 });
    const slow = await errorOf(store.get('data/probe'));
    expect(slow.code).toBe('NETWORK');
    expect(slow.message).toContain('SlowDown'); // the SDK parsed the XML body like S3's
    proxy.setRates({ internalError: 1 });
    expect((await errorOf(store.get('data/probe'))).message).toContain('InternalError');
    proxy.setRates({ resetBeforeBody: 1 });
    expect((await errorOf(store.put('data/other', Buffer.from('x')))).code).toBe('NETWORK');
    proxy.setRates({});
    await proxy.down();
    const gone = await errorOf(store.get('data/probe'));
    expect(gone.code).toBe('NETWORK');
    expect(gone.message).toMatch(/ECONNREFUSED/);
    await proxy.up();
    expect((await store.get('data/probe')).toString()).toBe('probe');
    expect(proxy.stats.faults['slow-down']).toBe(1);
    expect(proxy.stats.faults['internal-error']).toBe(1);
    expect(proxy.stats.faults['reset-before-body']).toBe(1);
  }, 30_000);

  it('completes, verifies and restores byte-identical while ~7 % of requests fail (resets, 503, 500)', async () => {
    // Besides the random faults, the first PUTs of each kind of object are faulted for sure.
    const forced: Record<string, InjectedFault[]> = {
      packs: ['reset-before-body', 'reset-after-body', 'reset-mid-response', 'slow-down', 'internal-error'],
      index: ['reset-mid-response'], // stored, but the client never hears so: it puts again
      snapshots: ['reset-after-body'],
    };
    // and the restore's first two pack downloads break off partway through their bodies: the bytes it
    // had written into its copies as they arrived (ByteRange.sink) come again from the start
    const restoreCuts: InjectedFault[] = ['reset-mid-response', 'reset-mid-response'];
    let restoring = false;
    const proxy = await startProxy({
      target: conn().endpoint,
      seed: 20260101,
      // 7.5 % faulted (SlowDown is the costly one: the SDK backs off 0-1 s before retrying it)
      rates: {
        resetBeforeBody: 0.015,
        resetAfterBody: 0.015,
        resetMidResponse: 0.01,
        slowDown: 0.01,
        internalError: 0.025,
        delay: 0.03,
      },
      delayMs: { min: 5, max: 50 },
      override: (r) => {
        if (restoring && r.method === 'GET' && r.url.includes('/packs/')) return restoreCuts.shift();
        const dir = /\/(packs|index|snapshots)\//.exec(r.url)?.[1];
        return r.method === 'PUT' && dir ? forced[dir]?.shift() : undefined;
      },
    });
    // everything goes through the proxy: init, open, backup, verify, restore
    const { repo } = await makeRepo('faults', { endpoint: proxy.endpoint });
    const snap = await backup(repo, { paths: [small], packTarget: 2 * MiB });
    expect(snap.stats.errorCount).toBe(0);

    const v = await verifyRepository(repo, { readData: true });
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.blobsChecked).toBeGreaterThan(snap.stats.files);
    restoring = true;
    await restoreAndDiff(repo, snap.id, small);
    expect(restoreCuts).toEqual([]);

    const f = proxy.stats.faults;
    console.log(
      `[s3-backup] through the fault proxy: requests ${JSON.stringify(proxy.stats.requests)}, ` +
        `faults ${JSON.stringify(f)}`,
    );
    expect(Object.values(forced).flat()).toEqual([]); // every forced fault happened
    expect(f['reset-before-body']).toBeGreaterThan(1);
    expect(f['reset-after-body']).toBeGreaterThan(2);
    expect(f['reset-mid-response']).toBeGreaterThan(2);
    expect(f['slow-down']).toBeGreaterThan(1);
    expect(f['internal-error']).toBeGreaterThan(1);
    const gets = proxy.stats.requests.GET ?? 0;
    const randomFaultsOnGets = proxy.log.filter((e) => e.method === 'GET' && e.fault).length;
    expect(randomFaultsOnGets / gets).toBeGreaterThan(0.03);
    expect(randomFaultsOnGets / gets).toBeLessThan(0.13);
  }, 60_000);

  it('fails with NETWORK when the server goes away mid-backup; the next backup uploads nothing twice', async () => {
    // Pack PUTs after the third are held (never reach RGW): however fast this machine uploads, the server
    // goes away with packs still to send, so the next backup has some to upload and can show it reuses
    // the rest.
    const isPackPut = (e: { method: string; url: string }): boolean =>
      e.method === 'PUT' && e.url.includes('/packs/');
    let packPutsSeen = 0;
    let holding = true;
    const proxy = await startProxy({
      target: conn().endpoint,
      seed: 5,
      hold: (r) => holding && isPackPut(r) && ++packPutsSeen > 3,
    });
    const rec = createRequestRecorder();
    const { repo, prefix } = await makeRepo('gone', {
      endpoint: proxy.endpoint,
      maxAttempts: 2,
      onRequest: rec.onRequest,
    });
    const direct = makeStore(prefix); // straight to RGW: what did arrive

    let filesDone = 0;
    const run = backup(repo, {
      paths: [small],
      packTarget: 1 * MiB,
      onProgress: (p) => (filesDone = p.filesDone),
    });
    let settled = false;
    void run.then(
      () => (settled = true),
      () => (settled = true),
    );
    const packPutsDone = (): number => proxy.log.filter((e) => isPackPut(e) && e.status === 200).length;
    const packPutsHeld = (): number => proxy.log.filter((e) => e.held === true).length;
    const deadline = Date.now() + 30_000;
    while (packPutsDone() < 3 || packPutsHeld() === 0) {
      if (settled) throw new Error('the backup ended before the server could be taken away');
      if (Date.now() > deadline)
        throw new Error(
          `within 30 s: ${packPutsDone()} packs uploaded (3 wanted), ${packPutsHeld()} held (1 wanted)`,
        );
      await new Promise((r) => setTimeout(r, 5));
    }
    await proxy.down();
    const downAt = performance.now();
    const requestsAtDown = rec.requests.length;
    const filesAtDown = filesDone;

    const err = await errorOf(run);
    const failMs = performance.now() - downAt;
    console.log(
      `[s3-backup] server gone after ${packPutsDone()} pack PUTs: the backup failed ` +
        `${(failMs / 1000).toFixed(2)} s later with ${err.code} "${err.message}" (hint: ${err.hint}); ` +
        `meanwhile it sent ${rec.requests.length - requestsAtDown} requests and read ` +
        `${filesDone - filesAtDown} more files`,
    );
    expect(err.code).toBe('NETWORK');
    expect(err.message).not.toMatch(/UnknownError/);
    expect(`${err.message} ${err.hint ?? ''}`).toMatch(/cannot reach|unreachable/i);
    expect(failMs).toBeLessThan(20_000);

    // Nothing was committed; the packs that did arrive stay and are reused.
    holding = false;
    await proxy.up();
    for await (const o of direct.list('snapshots/')) throw new Error(`${o.name} was committed`);
    const before = await packSizes(direct);
    expect(before.size).toBeGreaterThanOrEqual(3);
    const oldBlobs = new Set<string>();
    for (const [id, size] of before)
      for (const b of await readPackTrailer(direct, repo.key.encKey, id, size)) oldBlobs.add(b.id);
    expect(oldBlobs.size).toBeGreaterThan(0);

    const snap = await backup(repo, { paths: [small], packTarget: 1 * MiB });
    expect(snap.stats.errorCount).toBe(0);
    const after = await packSizes(direct);
    for (const id of before.keys()) expect(after.has(id)).toBe(true);
    const reuploaded: string[] = [];
    let newPacks = 0;
    for (const [id, size] of after) {
      if (before.has(id)) continue;
      newPacks++;
      for (const b of await readPackTrailer(direct, repo.key.encKey, id, size))
        if (oldBlobs.has(b.id)) reuploaded.push(`${b.kind} ${b.id.slice(0, 12)} in pack ${id.slice(0, 12)}`);
    }
    expect(newPacks).toBeGreaterThan(0);
    expect(reuploaded).toEqual([]);

    const v = await verifyRepository(repo, { readData: true });
    expect(v.problems).toEqual([]);
    expect(v.snapshots).toBe(1);
  }, 60_000);

  // A backup whose target is gone must stop at the first upload that failed for good, not read (and pack
  // into the temp folder) the whole source first.
  it('stops reading the source soon after the target turned unreachable', async () => {
    // every pack PUT is reset: the first pack upload fails for good after maxAttempts
    const proxy = await startProxy({
      target: conn().endpoint,
      seed: 9,
      rates: { resetBeforeBody: 1 },
      eligible: (r) => r.method === 'PUT' && r.url.includes('/packs/'),
    });
    const { repo } = await makeRepo('stop', { endpoint: proxy.endpoint, maxAttempts: 2 });
    let last = { bytesDone: 0, filesDone: 0 };
    const err = await errorOf(
      backup(repo, {
        paths: [corpus],
        packTarget: 1 * MiB,
        onProgress: (p) => (last = { bytesDone: p.bytesDone, filesDone: p.filesDone }),
      }),
    );
    console.log(
      `[s3-backup] every pack upload refused: the backup read ${(last.bytesDone / MiB).toFixed(1)} of ` +
        `${(corpusBytes / MiB).toFixed(1)} MiB (${last.filesDone} files) before failing with ${err.code}`,
    );
    expect(err.code).toBe('NETWORK');
    expect(proxy.stats.faults['reset-before-body']).toBeGreaterThan(0);
    expect(last.bytesDone).toBeLessThan(corpusBytes / 2);
  }, 60_000);

  it("sends a backup's listings while the key is derived, and each only once", async () => {
    const rec = createRequestRecorder();
    const { store, prefix, repo: first } = await makeRepo('prefetch', { onRequest: rec.onRequest });
    // a locked repository: the commit's lock extension lists the keys too
    const listings = backupListings(first.config);
    expect(listings).toContain('keys/');
    const root = `${prefix}/`;
    /** the prefixes listed (ListObjectVersions) among the requests recorded so far */
    const listed = (): string[] =>
      rec.requests
        .filter((r) => r.method === 'GET' && 'versions' in r.query)
        .map((r) => String(r.query['prefix']).slice(root.length));
    const heavy = listings.filter((p) => p !== 'prune/'); // prune/ is read again by the commit

    rec.clear();
    const catalog = Catalog.open(join(work, `${prefix}-2.db`));
    closers.push(() => catalog.close());
    const repo = await Repository.open(store, PASSWORD, catalog, { prefetch: listings });
    // sent before the repository was open: the key's listing first (after the config's), then the others
    expect(listed().filter((p) => p !== 'config')[0]).toBe('keys/');
    expect(listed()).toEqual(expect.arrayContaining([...listings]));
    rec.clear();
    await backup(repo, { paths: [small], source: 'prefetch' });
    for (const p of heavy) expect(listed(), `${p} listed again`).not.toContain(p);
    // the config's fresh look lists its versions; the authenticated one is not read again
    const configReads = rec.requests.filter(
      (r) => r.method === 'GET' && r.path.endsWith(`/${root}config`) && !('versions' in r.query),
    );
    expect(configReads).toEqual([]);

    // the next run (a repository kept open, as the service does) sends them side by side itself, each once
    rec.clear();
    await backup(repo, { paths: [small], source: 'prefetch' });
    for (const p of heavy) expect(listed().filter((x) => x === p)).toHaveLength(1);
  });

  it('sends Content-MD5 and the Object Lock headers on every PutObject of packs, indexes and snapshots', async () => {
    const rec = createRequestRecorder();
    const { store, repo } = await makeRepo('headers', { onRequest: rec.onRequest });
    rec.clear();
    const serverNow = (await store.serverTime()).getTime();
    const snap = await backup(repo, { paths: [small], packTarget: 4 * MiB });
    expect(snap.stats.errorCount).toBe(0);

    const objectPuts = rec.requests.filter(
      (r) => r.method === 'PUT' && /\/(packs|index|snapshots)\//.test(r.path),
    );
    const count = (dir: string): number => objectPuts.filter((r) => r.path.includes(`/${dir}/`)).length;
    expect(count('packs')).toBeGreaterThanOrEqual(2);
    expect(count('index')).toBe(1);
    expect(count('snapshots')).toBe(1);
    const expectedUntil = serverNow + (LOCK.days + LOCK.paddingDays) * DAY;
    for (const r of objectPuts) {
      const where = `${r.method} ${r.path}`;
      expect(r.headers['content-md5'], where).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      expect(r.headers['x-amz-object-lock-mode'], where).toBe('COMPLIANCE');
      const until = Date.parse(r.headers['x-amz-object-lock-retain-until-date'] ?? '');
      expect(Math.abs(until - expectedUntil), where).toBeLessThan(10 * 60_000);
      expect(r.query, where).not.toHaveProperty('uploads'); // never multipart (RGW ignores its locks)
      expect(r.status, where).toBe(200); // RGW checks Content-MD5: a wrong one would be 400 BadDigest
    }
    // and the server did lock them
    const packPut = objectPuts.find((r) => r.path.includes('/packs/'));
    const key = decodeURIComponent(packPut!.path.replace(`/${bucket}/`, ''));
    const ret = await store.client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key }));
    expect(ret.Retention?.Mode).toBe('COMPLIANCE');
    expect(Math.abs((ret.Retention?.RetainUntilDate?.getTime() ?? 0) - expectedUntil)).toBeLessThan(
      10 * 60_000,
    );
  }, 60_000);
});
