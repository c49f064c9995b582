/**
 * A hostile backup key on a real S3 server with Object Lock (Ceph RGW): with the very credentials Bulwark
 * uses, an attacker replaces `config` with a copy whose lock policy is removed and overwrites a pack with
 * garbage (PutObject makes new current versions; the locked originals stay). The next backup refuses with
 * a clear message and writes no unlocked object, verify --locks names both keys, and every earlier
 * snapshot restores byte for byte — also on a new computer that has only the password and the bucket.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../src-main/engine/catalog/catalog.ts';
import { verifyLocks } from '../../src-main/engine/locks/verify-locks.ts';
import { restoreSnapshot } from '../../src-main/engine/ops/restore.ts';
import { initRepository, Repository } from '../../src-main/engine/repo/repository.ts';
import type { S3Store } from '../../src-main/engine/storage/s3.ts';
import { useLockBucket } from './helpers/rgw-bucket.ts';
import { PASSWORD, TEST_KDF, tempDir } from './helpers/repo.ts';

const lockBucket = useLockBucket('tamper');
let bucket = '';
beforeAll(() => {
  bucket = lockBucket.bucket();
});

interface VersionRow {
  key: string;
  id: string;
  retainUntil: Date | undefined;
}

/** Every version under the repository's prefix, with the retention the server reports for it. */
async function versions(store: S3Store): Promise<VersionRow[]> {
  const out = await store.client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: store.root }));
  const rows: VersionRow[] = [];
  for (const v of out.Versions ?? []) {
    const h = await store.client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: v.Key!, VersionId: v.VersionId! }),
    );
    rows.push({
      key: v.Key!.slice(store.root.length),
      id: v.VersionId!,
      retainUntil: h.ObjectLockRetainUntilDate,
    });
  }
  return rows;
}

describe('a hostile backup key on Ceph RGW', () => {
  it('config replaced and a pack overwritten: backup refuses, verify names both, every snapshot restores', async () => {
    const store = lockBucket.store(`tamper-${randomBytes(4).toString('hex')}`);
    await initRepository(store, PASSWORD, {
      kdf: TEST_KDF,
      lock: { mode: 'COMPLIANCE', days: 1, paddingDays: 1 },
    });
    const repo = await Repository.open(store, PASSWORD, Catalog.open(':memory:'));
    lockBucket.track({ store, repo });

    const work = tempDir('tamper-s3');
    const src = join(work, 'data');
    mkdirSync(join(src, 'docs'), { recursive: true });
    for (let i = 0; i < 5; i++) writeFileSync(join(src, 'docs', `f${i}.txt`), `invoice ${i}\n`.repeat(2000));
    writeFileSync(join(src, 'big.bin'), randomBytes(3 << 20));
    const s1 = await backup(repo, { paths: [src], source: 'office' });
    cpSync(src, join(work, 'copy1'), { recursive: true });
    writeFileSync(join(src, 'docs', 'f0.txt'), 'changed\n'.repeat(3000));
    writeFileSync(join(src, 'more.bin'), randomBytes(1 << 20));
    const s2 = await backup(repo, { paths: [src], source: 'office' });
    cpSync(src, join(work, 'copy2'), { recursive: true });

    // The attacker, with the same credentials (PutObject is all a backup key needs).
    const packs = repo.catalog.packs(repo.rid).map((p) => `packs/${p.id.slice(0, 2)}/${p.id}`);
    const pack = packs[0]!;
    const original = JSON.parse((await store.get('config')).toString('utf8')) as Record<string, unknown>;
    for (const [key, body] of [
      ['config', Buffer.from(JSON.stringify({ ...original, lock: null }, null, 2))],
      [pack, randomBytes(4096)],
    ] as const) {
      await store.client.send(new PutObjectCommand({ Bucket: bucket, Key: store.root + key, Body: body }));
    }
    const before = await versions(store);

    // Bulwark on the same computer (its catalog knows the versions it wrote): refuses to back up.
    writeFileSync(join(src, 'after-attack.txt'), 'new work');
    await expect(backup(repo, { paths: [src], source: 'office' })).rejects.toMatchObject({
      code: 'LOCK_INVARIANT_BROKEN',
      message: expect.stringMatching(/config.*replaced.*intact and still locked/s),
      hint: expect.stringContaining('verify --locks'),
    });
    const after = await versions(store);
    const added = after.filter((v) => !before.some((b) => b.key === v.key && b.id === v.id));
    // nothing without retention: at most the audit entry of the refusal, locked like everything else
    for (const v of added) {
      expect(v.key, 'only an audit entry').toMatch(/^audit\//);
      expect(v.retainUntil, v.key).toBeDefined();
    }

    // A new computer with only the password and the bucket: restores every snapshot byte for byte.
    const fresh = await Repository.open(store, PASSWORD, Catalog.open(':memory:'));
    lockBucket.track({ store, repo: fresh });
    expect(fresh.config.lock).toEqual({ mode: 'COMPLIANCE', days: 1, paddingDays: 1 });
    await fresh.syncIndexes();
    expect((await fresh.syncSnapshots()).map((s) => s.id).sort()).toEqual([s1.id, s2.id].sort());
    for (const [snap, copy] of [
      [s1, 'copy1'],
      [s2, 'copy2'],
    ] as const) {
      const out = tempDir('tamper-restore');
      const r = await restoreSnapshot(fresh, { snapshot: snap.id, target: out });
      expect(r.errors).toEqual([]);
      execFileSync('diff', ['-r', join(work, copy), join(out, 'data')]);
    }

    // verify --locks names both tampered keys; the lock proof for Bulwark's own versions holds.
    for (const r of [repo, fresh]) {
      const report = await verifyLocks(r);
      const named = report.tampering.map((t) => t.object);
      expect(named).toContain('config');
      expect(named).toContain(pack);
      expect(report.tampering.find((t) => t.object === pack)?.kind).toBe('foreign-version');
      expect(report.violations).toEqual([]);
      expect(report.ok).toBe(false);
    }
    // and the new computer refuses to back up too
    await expect(backup(fresh, { paths: [src], source: 'office' })).rejects.toMatchObject({
      code: 'LOCK_INVARIANT_BROKEN',
    });
  });
});
