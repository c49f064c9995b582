/**
 * The immutability model on a real S3 server that enforces Object Lock (Ceph RGW): every object locked,
 * lock closure with padding, verify --locks as the proof, legal holds.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../src-main/engine/catalog/catalog.ts';
import { holdSnapshot, verifyLocks } from '../../src-main/engine/locks/verify-locks.ts';
import { initRepository, Repository } from '../../src-main/engine/repo/repository.ts';
import { restoreSnapshot } from '../../src-main/engine/ops/restore.ts';
import { type S3Store } from '../../src-main/engine/storage/s3.ts';
import { uniqueBucketName } from '../harness/rgw.ts';
import { useLockBucket } from './helpers/rgw-bucket.ts';
import { PASSWORD, TEST_KDF, tempDir } from './helpers/repo.ts';
import { execFileSync } from 'node:child_process';

const DAY = 86_400_000;
const lockBucket = useLockBucket('locks');
let bucket = '';
beforeAll(() => {
  bucket = lockBucket.bucket();
});

function s3Store(prefix: string, b?: string): S3Store {
  return lockBucket.store(prefix, b ? { bucket: b } : {});
}

async function lockedRepo(tag: string, days = 1): Promise<{ store: S3Store; repo: Repository }> {
  const store = s3Store(`${tag}-${randomBytes(4).toString('hex')}`);
  await initRepository(store, PASSWORD, {
    kdf: TEST_KDF,
    lock: { mode: 'COMPLIANCE', days, paddingDays: 1 },
  });
  const repo = await Repository.open(store, PASSWORD, Catalog.open(':memory:'));
  lockBucket.track({ store, repo });
  return { store, repo };
}

function sourceTree(): string {
  const src = join(tempDir('locks-src'), 'data');
  mkdirSync(join(src, 'docs'), { recursive: true });
  for (let i = 0; i < 5; i++)
    writeFileSync(join(src, 'docs', `f${i}.txt`), `document ${i}\n`.repeat(1000 + i));
  writeFileSync(join(src, 'big.bin'), randomBytes(3 << 20));
  return src;
}

describe('immutability on Ceph RGW (COMPLIANCE)', () => {
  it('refuses delete, shortening and silent replacement of every object version after a backup', async () => {
    const { store, repo } = await lockedRepo('walk');
    const src = sourceTree();
    const snap = await backup(repo, { paths: [src] });
    const client = store.client;
    const versions = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: store.root }));
    const all = versions.Versions ?? [];
    // config, a key, packs, an index, a snapshot: every one of them
    expect(all.length).toBeGreaterThanOrEqual(5);
    const past = new Date(Date.now() + 60_000);
    for (const v of all) {
      const key = v.Key!;
      const id = v.VersionId!;
      const original = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: id }));
      const hash = createHash('sha256')
        .update(await original.Body!.transformToByteArray())
        .digest('hex');
      expect(original.ObjectLockMode, key).toBe('COMPLIANCE');
      expect(original.ObjectLockRetainUntilDate!.getTime(), key).toBeGreaterThan(Date.now() + DAY / 2);
      await expect(
        client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: id })),
        key,
      ).rejects.toThrow();
      await expect(
        client.send(
          new DeleteObjectCommand({
            Bucket: bucket,
            Key: key,
            VersionId: id,
            BypassGovernanceRetention: true,
          }),
        ),
        key,
      ).rejects.toThrow();
      await expect(
        client.send(
          new PutObjectRetentionCommand({
            Bucket: bucket,
            Key: key,
            VersionId: id,
            Retention: { Mode: 'COMPLIANCE', RetainUntilDate: past },
          }),
        ),
        key,
      ).rejects.toThrow();
      // An overwrite only adds a version on top; the locked one stays, byte for byte.
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'ransomware was here' }));
      const again = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: id }));
      expect(
        createHash('sha256')
          .update(await again.Body!.transformToByteArray())
          .digest('hex'),
        key,
      ).toBe(hash);
    }
    // The overwrites are unlocked new versions on top: verify --locks names every one of them as tampering,
    // and finds Bulwark's own versions (which it reads by version id) all still locked.
    const report = await verifyLocks(repo);
    expect(report.ok).toBe(false);
    expect(report.violations).toEqual([]);
    const flagged = new Set(report.tampering.map((t) => t.object));
    for (const v of all) expect(flagged.has(v.Key!.slice(store.root.length)), v.Key).toBe(true);
    expect(snap.id).toBeTruthy();
  });

  it('extends reused objects before commit, only where they fall short; verify --locks is the proof', async () => {
    const { repo } = await lockedRepo('closure');
    const src = sourceTree();
    const first = await backup(repo, { paths: [src], lockDays: 1 });
    const r1 = await verifyLocks(repo);
    expect(r1.violations).toEqual([]);
    const p1 = Date.parse(r1.snapshots.find((s) => s.id === first.id)!.protectedUntil!);

    // A longer-lived snapshot dedups against objects locked for a shorter time: they get extended.
    writeFileSync(join(src, 'docs', 'f0.txt'), 'changed\n');
    const second = await backup(repo, { paths: [src], lockDays: 5 });
    expect(second.stats.lockExtensions).toBeGreaterThan(0);
    const r2 = await verifyLocks(repo);
    expect(r2.violations).toEqual([]);
    const st2 = r2.snapshots.find((s) => s.id === second.id)!;
    expect(Date.parse(st2.protectedUntil!)).toBeGreaterThanOrEqual(Date.parse(second.retainUntil!));
    expect(Date.parse(st2.protectedUntil!)).toBeGreaterThan(p1 + 3 * DAY);
    // the first snapshot shares objects with the second: its protected-until moved too
    expect(Date.parse(r2.snapshots.find((s) => s.id === first.id)!.protectedUntil!)).toBeGreaterThan(p1);

    // Right after: the padding covers it, zero extension calls.
    const third = await backup(repo, { paths: [src], lockDays: 5 });
    expect(third.stats.lockExtensions).toBe(0);

    // Without the extension step the invariant breaks, and verify --locks says where.
    const broken = await backup(repo, { paths: [src], lockDays: 30, skipLockExtension: true });
    const r3 = await verifyLocks(repo);
    expect(r3.ok).toBe(false);
    expect(r3.violations.some((v) => v.snapshot === broken.id && v.problem === 'short')).toBe(true);
  });

  it('verify --locks names an object the server left unlocked (multipart upload with lock headers)', async () => {
    const { store, repo } = await lockedRepo('multipart');
    await backup(repo, { paths: [sourceTree()] });
    expect((await verifyLocks(repo)).ok).toBe(true);
    const name = `index/${randomBytes(16).toString('hex')}`;
    const key = `${store.root}${name}`;
    const c = store.client;
    const mp = await c.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: new Date(Date.now() + 10 * DAY),
      }),
    );
    const part = await c.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: mp.UploadId,
        PartNumber: 1,
        Body: randomBytes(1024),
      }),
    );
    await c.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: mp.UploadId,
        MultipartUpload: { Parts: [{ ETag: part.ETag, PartNumber: 1 }] },
      }),
    );
    const report = await verifyLocks(repo);
    expect(report.ok).toBe(false);
    expect(report.violations).toContainEqual(expect.objectContaining({ object: name, problem: 'unlocked' }));
  });

  it('legal hold covers the whole closure and shows in verify --locks; restore from RGW is byte-identical', async () => {
    const { repo } = await lockedRepo('hold');
    const src = sourceTree();
    const snap = await backup(repo, { paths: [src] });
    const n = (await holdSnapshot(repo, snap.id, true)).objects;
    expect(n).toBeGreaterThanOrEqual(5);
    const held = await verifyLocks(repo);
    expect(held.snapshots.find((s) => s.id === snap.id)!.held).toBe(true);
    await holdSnapshot(repo, snap.id, false);
    expect((await verifyLocks(repo)).snapshots.find((s) => s.id === snap.id)!.held).toBe(false);
    const out = tempDir('locks-restore');
    const r = await restoreSnapshot(repo, { snapshot: snap.id, target: out });
    expect(r.errors).toEqual([]);
    execFileSync('diff', ['-r', src, join(out, 'data')]);
  });

  it('init refuses a bucket without Object Lock and explains how to create one', async () => {
    const plain = uniqueBucketName('nolock');
    await lockBucket.rgw().createBucket(plain, { objectLock: false });
    const store = s3Store('x', plain);
    await expect(
      initRepository(store, PASSWORD, {
        kdf: TEST_KDF,
        lock: { mode: 'COMPLIANCE', days: 7, paddingDays: 10 },
      }),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED', hint: expect.stringContaining('Object Lock') });
    await store.close();
  });
});
