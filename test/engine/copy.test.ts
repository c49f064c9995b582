/**
 * Copy jobs (issue 13, 3-2-1; must-show 3): snapshots backed up into repository A are copied into
 * repository B (a folder; and a real Ceph RGW bucket with Object Lock), only new ones on the next run; then
 * A is destroyed entirely and every snapshot restores from B byte for byte. B passes `verify --read-data`
 * (and `verify --locks` on RGW), a run with nothing new copies nothing, and a copy interrupted midway is
 * finished by the next run without uploading its packs again.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { backup } from '../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../src-main/engine/catalog/catalog.ts';
import { isBulwarkError } from '../../src-main/engine/errors.ts';
import { verifyLocks } from '../../src-main/engine/locks/verify-locks.ts';
import { copySnapshots } from '../../src-main/engine/ops/copy.ts';
import { restoreSnapshot } from '../../src-main/engine/ops/restore.ts';
import { verifyRepository } from '../../src-main/engine/ops/verify.ts';
import { lastSegment } from '../../src-main/engine/repo/format.ts';
import { readPackTrailer } from '../../src-main/engine/repo/pack.ts';
import { initRepository, Repository } from '../../src-main/engine/repo/repository.ts';
import { S3Store } from '../../src-main/engine/storage/s3.ts';
import { acquireRgw, uniqueBucketName, type RgwHandle } from '../harness/rgw.ts';
import { makeCorpus, mutateCorpus } from './helpers/corpus.ts';
import { makeFsRepo, PASSWORD, TEST_KDF, tempDir, type TestRepo } from './helpers/repo.ts';

let work = '';
let src = '';
/** the source as each snapshot saw it, by source snapshot id */
const versions = new Map<string, string>();
let a: TestRepo;
const closers: (() => Promise<void> | void)[] = [];

/** Backs the source up into A and keeps a copy of what it held then. */
async function backupA(): Promise<string> {
  const m = await backup(a.repo, { paths: [src], source: 'office', packTarget: 256 * 1024 });
  const kept = join(work, 'versions', m.id, basename(src));
  cpSync(src, kept, { recursive: true });
  versions.set(m.id, kept);
  return m.id;
}

/** Restores `snapshot` of `repo` into a fresh folder and checks it equals `expected` byte for byte. */
async function restoreAndCompare(repo: Repository, snapshot: string, expected: string): Promise<void> {
  const out = tempDir('copy-restore');
  closers.push(() => rmSync(out, { recursive: true, force: true }));
  const r = await restoreSnapshot(repo, { snapshot, target: out });
  expect(r.errors).toEqual([]);
  // throws (the differences in its message) unless the trees are identical
  execFileSync('diff', ['-r', expected, join(out, basename(expected))], { stdio: 'pipe' });
}

beforeAll(async () => {
  work = tempDir('copy');
  src = join(work, 'office');
  makeCorpus(src, 0.005, 11);
  a = await makeFsRepo('copy-a');
});

afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  a.cleanup();
  rmSync(work, { recursive: true, force: true });
});

describe('copying snapshots to a second repository (folder)', () => {
  let b: TestRepo;
  let first = '';
  let second = '';
  beforeAll(async () => {
    b = await makeFsRepo('copy-b');
    closers.push(() => b.cleanup());
  });

  it('copies every snapshot, then only the new one', async () => {
    first = await backupA();
    const r1 = await copySnapshots(a.repo, b.repo);
    expect(r1.copied.map((c) => c.from)).toEqual([first]);
    expect(r1.skipped).toEqual([]);
    expect(r1.bytesAdded).toBeGreaterThan(0);
    const copy1 = b.repo.catalog.snapshots(b.repo.rid)[0];
    const orig1 = a.repo.resolveSnapshot(first);
    // the same point in time, named after where it came from
    expect(copy1?.time).toBe(orig1.time);
    expect(copy1?.source).toBe('office');
    expect(copy1?.paths).toEqual(orig1.paths);
    expect(copy1?.host).toBe(orig1.host);
    expect(copy1?.copiedFrom).toEqual({ repository: a.repo.config.id, snapshot: first });
    expect(copy1?.stats.files).toBe(orig1.stats.files);

    mutateCorpus(src, 3);
    writeFileSync(join(src, 'new-letter.txt'), 'written after the first copy\n');
    second = await backupA();
    const r2 = await copySnapshots(a.repo, b.repo, { actor: 'test' });
    expect(r2.copied.map((c) => c.from)).toEqual([second]);
    expect(r2.skipped.map((s) => s.from)).toEqual([first]);
    // the unchanged files were taken from the first copy: far less than a whole second copy was added
    expect(r2.bytesAdded).toBeLessThan(r1.bytesAdded);
    const copies = b.repo.catalog.snapshots(b.repo.rid);
    expect(copies).toHaveLength(2);
    // the copies form their own chain in B
    expect(copies[1]?.prev?.id).toBe(copies[0]?.id);
  });

  it('a run with nothing new copies nothing', async () => {
    const before = readdirSync(join(b.dir, 'repo', 'packs'), { recursive: true }).length;
    const r = await copySnapshots(a.repo, b.repo);
    expect(r.copied).toEqual([]);
    expect(r.skipped.map((s) => s.from)).toEqual([first, second]);
    expect(r.bytesAdded).toBe(0);
    expect(readdirSync(join(b.dir, 'repo', 'packs'), { recursive: true }).length).toBe(before);
  });

  it('copying back into the repository they came from copies nothing', async () => {
    const r = await copySnapshots(b.repo, a.repo);
    expect(r.copied).toEqual([]);
    expect(r.skipped).toHaveLength(2);
  });

  it('refuses to copy a repository into itself', async () => {
    await expect(copySnapshots(a.repo, a.repo)).rejects.toSatisfy((e) =>
      isBulwarkError(e, 'INVALID_ARGUMENT'),
    );
  });

  it('with A destroyed entirely, every snapshot restores from B byte for byte and B verifies clean', async () => {
    a.repo.catalog.close();
    rmSync(a.dir, { recursive: true, force: true });
    // a new computer: B's catalog rebuilt from B alone
    const fresh = await Repository.open(b.store, PASSWORD, Catalog.open(join(b.dir, 'fresh.db')));
    closers.push(() => fresh.catalog.close());
    await fresh.syncIndexes();
    const snaps = await fresh.syncSnapshots();
    expect(snaps.map((s) => s.copiedFrom?.snapshot)).toEqual([first, second]);
    for (const s of snaps) {
      const expected = versions.get(s.copiedFrom?.snapshot ?? '');
      expect(expected).toBeDefined();
      await restoreAndCompare(fresh, s.id, expected ?? '');
    }
    const v = await verifyRepository(fresh, { readData: true });
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.snapshots).toBe(2);
  });
});

describe('a copy interrupted midway', () => {
  it('is finished by the next run, reusing the packs it uploaded', async () => {
    const from = await makeFsRepo('copy-c');
    const dest = await makeFsRepo('copy-d');
    closers.push(
      () => from.cleanup(),
      () => dest.cleanup(),
    );
    const data = join(work, 'interrupted');
    mkdirSync(data);
    for (let i = 0; i < 40; i++) writeFileSync(join(data, `f${i}.bin`), randomBytes(40_000));
    const m = await backup(from.repo, { paths: [data], packTarget: 64 * 1024 });
    const stop = new AbortController();
    const err = await copySnapshots(from.repo, dest.repo, {
      signal: stop.signal,
      packTarget: 64 * 1024,
      onProgress: (p) => {
        if (p.blobsRead >= 20) stop.abort();
      },
    }).catch((e: unknown) => e);
    expect(isBulwarkError(err, 'CANCELED')).toBe(true);
    const packs = (): string[] =>
      readdirSync(join(dest.dir, 'repo', 'packs'), { recursive: true })
        .map(String)
        .filter((n) => n.length > 2);
    const leftBehind = packs();
    expect(leftBehind.length).toBeGreaterThan(0);
    // a new process (fresh catalog) picks up where it stopped
    dest.repo.catalog.close();
    rmSync(dest.catalogPath, { force: true });
    dest.repo = await Repository.open(dest.store, PASSWORD, Catalog.open(dest.catalogPath));
    const r = await copySnapshots(from.repo, dest.repo, { packTarget: 64 * 1024 });
    expect(r.copied.map((c) => c.from)).toEqual([m.id]);
    for (const p of leftBehind) expect(packs()).toContain(p);
    // nothing was stored twice: every blob is in exactly one pack
    const seen = new Map<string, number>();
    for await (const o of dest.store.list('packs/')) {
      for (const blob of await readPackTrailer(dest.store, dest.repo.key.encKey, lastSegment(o.name), o.size))
        seen.set(blob.id, (seen.get(blob.id) ?? 0) + 1);
    }
    expect(seen.size).toBeGreaterThan(40);
    expect([...seen.values()].filter((n) => n > 1)).toEqual([]);
    const v = await verifyRepository(dest.repo, { readData: true });
    expect(v.problems).toEqual([]);
    await restoreAndCompare(dest.repo, r.copied[0]?.to ?? '', data);
  });
});

describe('copying into an S3 bucket with Object Lock (Ceph RGW)', () => {
  let rgw: RgwHandle | undefined;
  let bucket = '';
  beforeAll(async () => {
    rgw = await acquireRgw(inject('rgw'));
    bucket = uniqueBucketName('copy');
    await rgw.createBucket(bucket, { objectLock: true });
  }, 180_000);
  afterAll(async () => {
    await rgw?.release();
  });

  it('re-locks every copied object with the bucket’s policy and passes verify --locks', async () => {
    const r = rgw;
    if (!r) throw new Error('RGW not started');
    const from = await makeFsRepo('copy-e');
    closers.push(() => from.cleanup());
    const data = join(work, 'to-s3');
    makeCorpus(data, 0.002, 5);
    const m1 = await backup(from.repo, { paths: [data], source: 'office' });
    const kept1 = join(work, 'to-s3-v1', basename(data));
    cpSync(data, kept1, { recursive: true });
    writeFileSync(join(data, 'later.txt'), 'a later version\n');
    const m2 = await backup(from.repo, { paths: [data], source: 'office' });

    const store = new S3Store({
      bucket,
      prefix: 'office',
      endpoint: r.endpoint,
      region: r.region,
      credentials: { accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey },
    });
    closers.push(() => store.close());
    await initRepository(store, PASSWORD, {
      kdf: TEST_KDF,
      lock: { mode: 'GOVERNANCE', days: 2, paddingDays: 1 },
    });
    const catalog = Catalog.open(join(work, 's3.db'));
    closers.push(() => catalog.close());
    const s3 = await Repository.open(store, PASSWORD, catalog);
    const res = await copySnapshots(from.repo, s3, { snapshots: [m1.id] });
    expect(res.copied.map((c) => c.from)).toEqual([m1.id]);
    const res2 = await copySnapshots(from.repo, s3);
    expect(res2.copied.map((c) => c.from)).toEqual([m2.id]);
    expect(res2.skipped.map((c) => c.from)).toEqual([m1.id]);

    const locks = await verifyLocks(s3);
    expect(locks.applicable).toBe(true);
    expect(locks.violations).toEqual([]);
    expect(locks.ok).toBe(true);
    expect(locks.snapshots).toHaveLength(2);
    for (const c of s3.catalog.snapshots(s3.rid)) {
      // locked from the copy on for the bucket's own period
      expect(Date.parse(c.retainUntil ?? '')).toBeGreaterThan(Date.now() + 1.5 * 86_400_000);
    }

    rmSync(join(from.dir, 'repo'), { recursive: true, force: true }); // the source is gone
    const [c1, c2] = s3.catalog.snapshots(s3.rid);
    await restoreAndCompare(s3, c1?.id ?? '', kept1);
    await restoreAndCompare(s3, c2?.id ?? '', data);
    const v = await verifyRepository(s3, { readData: true });
    expect(v.problems).toEqual([]);
  });
});
