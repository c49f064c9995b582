/**
 * Legal holds counted per snapshot on a real S3 server with Object Lock (Ceph RGW): lifting one of two held
 * snapshots that share objects keeps the other's hold on every object it needs, as the server reports it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backup } from '../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../src-main/engine/catalog/catalog.ts';
import { snapshotClosure } from '../../src-main/engine/locks/closure.ts';
import { heldSnapshots, holdSnapshot, verifyLocks } from '../../src-main/engine/locks/verify-locks.ts';
import { objectNames, type SnapshotManifest } from '../../src-main/engine/repo/format.ts';
import { initRepository, Repository } from '../../src-main/engine/repo/repository.ts';
import { useLockBucket } from './helpers/rgw-bucket.ts';
import { PASSWORD, TEST_KDF, tempDir } from './helpers/repo.ts';

const lockBucket = useLockBucket('holds');

describe('legal holds per snapshot on Ceph RGW', () => {
  it('hold --off on one of two held snapshots sharing a pack keeps the other held', async () => {
    const store = lockBucket.store(`holds-${randomBytes(4).toString('hex')}`);
    await initRepository(store, PASSWORD, {
      kdf: TEST_KDF,
      lock: { mode: 'COMPLIANCE', days: 1, paddingDays: 1 },
    });
    const repo = await Repository.open(store, PASSWORD, Catalog.open(':memory:'));
    lockBucket.track({ store, repo });
    const src = join(tempDir('holds-src'), 'data');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'shared.bin'), randomBytes(1 << 20));
    const s1 = await backup(repo, { paths: [src], readers: 1 });
    writeFileSync(join(src, 'two.txt'), 'only in the second snapshot\n');
    const s2 = await backup(repo, { paths: [src], readers: 1 });
    const objects = async (m: SnapshotManifest): Promise<string[]> => [
      ...(await snapshotClosure(repo, m)),
      objectNames.snapshot(m.id),
    ];
    const c1 = await objects(s1);
    const c2 = await objects(s2);
    const shared = c1.filter((n) => c2.includes(n));
    expect(shared.some((n) => n.startsWith('packs/'))).toBe(true);
    const held = async (n: string): Promise<boolean> => (await repo.store.head(n)).legalHold === true;

    await holdSnapshot(repo, s1.id, true);
    await holdSnapshot(repo, s2.id, true);
    const off1 = await holdSnapshot(repo, s1.id, false);
    expect(off1).toMatchObject({
      released: c1.length - shared.length,
      keptHeld: shared.length,
      keptFor: [s2.id],
    });
    for (const n of c2) expect(await held(n), n).toBe(true);
    expect(await held(objectNames.snapshot(s1.id))).toBe(false);
    const report = await verifyLocks(repo);
    expect(report.snapshots.find((s) => s.id === s2.id)?.held).toBe(true);
    expect(report.snapshots.find((s) => s.id === s1.id)?.held).toBe(false);

    // a new catalog learns the hold from the bucket, and lifting the second releases everything
    const fresh = await Repository.open(store, PASSWORD, Catalog.open(':memory:'));
    lockBucket.track({ store, repo: fresh });
    expect(await heldSnapshots(fresh)).toEqual([s2.id]);
    const off2 = await holdSnapshot(fresh, s2.id, false);
    expect(off2).toMatchObject({ released: c2.length, keptHeld: 0 });
    for (const n of new Set([...c1, ...c2])) expect(await held(n), n).toBe(false);
  });
});
