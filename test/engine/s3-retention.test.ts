/**
 * Retention on a real S3 server with Object Lock (Ceph RGW, COMPLIANCE). Days-based locks cannot expire
 * during a test, so the tiers differ in length instead (daily 1 day, yearly 5): forget promotes a yearly
 * keeper and verify --locks shows its new protected-until from the server; forget and prune send no
 * DeleteObject for anything locked; the audit log is in the bucket.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAuditLog } from '../../src-main/engine/audit/audit.ts';
import { backup } from '../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../src-main/engine/catalog/catalog.ts';
import { holdSnapshot, verifyLocks } from '../../src-main/engine/locks/verify-locks.ts';
import { initRepository, Repository } from '../../src-main/engine/repo/repository.ts';
import { forget } from '../../src-main/engine/retention/forget.ts';
import { setRetentionPolicy } from '../../src-main/engine/retention/policies.ts';
import { prune } from '../../src-main/engine/retention/prune.ts';
import { createRequestRecorder } from '../../src-main/engine/storage/s3.ts';
import type { BlobStore, PutBody, PutOptions, PutResult } from '../../src-main/engine/storage/types.ts';
import { useLockBucket } from './helpers/rgw-bucket.ts';
import { PASSWORD, TEST_KDF, tempDir } from './helpers/repo.ts';

const DAY = 86_400_000;
const lockBucket = useLockBucket('retention');

describe('retention on Ceph RGW (COMPLIANCE)', () => {
  it('promotes a yearly keeper, forgets and prunes nothing locked, zero DeleteObject calls', async () => {
    const rec = createRequestRecorder();
    const store = lockBucket.store(`ret-${randomBytes(4).toString('hex')}`, { onRequest: rec.onRequest });
    await initRepository(store, PASSWORD, {
      kdf: TEST_KDF,
      lock: { mode: 'COMPLIANCE', days: 1, paddingDays: 1 },
    });
    const repo = await Repository.open(store, PASSWORD, Catalog.open(':memory:'));
    lockBucket.track({ store, repo });

    const src = join(tempDir('retention-src'), 'data');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'a.bin'), randomBytes(1 << 20));
    const first = await backup(repo, { paths: [src], source: 'office', lockDays: 1 });
    writeFileSync(join(src, 'b.bin'), randomBytes(1 << 20));
    const second = await backup(repo, { paths: [src], source: 'office', lockDays: 1 });
    await setRetentionPolicy(repo, 'office', {
      keepLast: 1,
      keepYearly: 1,
      lockDays: { daily: 1, weekly: 2, monthly: 3, yearly: 5 },
      timeZone: 'UTC',
    });

    // A run killed before its commit: its packs and index are locked, and no snapshot needs them.
    const killedStore = Object.create(store) as BlobStore;
    killedStore.put = (name: string, body: PutBody, opts?: PutOptions): Promise<PutResult> =>
      name.startsWith('snapshots/') ? Promise.reject(new Error('killed')) : store.put(name, body, opts);
    const killed = await Repository.open(killedStore, PASSWORD, Catalog.open(':memory:'));
    writeFileSync(join(src, 'c.bin'), randomBytes(1 << 20));
    await expect(backup(killed, { paths: [src], source: 'office', lockDays: 1 })).rejects.toThrow('killed');
    killed.catalog.close();

    rec.clear();
    // Evaluated as of next year: the newest snapshot is the keeper of a finished year.
    const serverNow = await store.serverTime();
    const f = await forget(repo, { now: new Date(serverNow.getTime() + 400 * DAY) });
    const s = f.sources[0]!;
    expect(s.keep.map((k) => k.id)).toEqual([second.id]);
    expect(s.keep[0]!.promoted).toMatchObject({ tier: 'yearly' });
    expect(s.keep[0]!.promoted!.lockExtensions).toBeGreaterThan(0);
    // the older one is not kept by the policy but still locked by the server: kept, no delete sent
    expect(s.forgotten).toEqual([]);
    expect(s.locked.map((l) => l.id)).toEqual([first.id]);
    expect(s.locked[0]!.reasons).toContain('server lock');
    expect(Date.parse(s.locked[0]!.lockedUntil!)).toBeGreaterThan(serverNow.getTime());

    // Prune: the killed run's objects are unreferenced but locked: marked, then kept with their date.
    const p1 = await prune(repo, { orphanGraceMs: 0 });
    expect(p1.marked.length).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 1100)); // a later prune, by the server's 1 s clock too
    const p2 = await prune(repo, { graceMs: 0, orphanGraceMs: 0 });
    expect(p2.deleted).toEqual([]);
    expect(p2.deleteCalls).toBe(0);
    const unreferenced = p2.locked.filter((l) => l.why === 'unreferenced');
    expect(unreferenced.length).toBe(p1.marked.length);
    for (const l of unreferenced) expect(Date.parse(l.until!)).toBeGreaterThan(serverNow.getTime());
    expect(rec.requests.filter((r) => r.method === 'DELETE')).toEqual([]);

    // verify --locks: the promoted snapshot is protected until its yearly date, as the server reports.
    const report = await verifyLocks(repo);
    expect(report.violations).toEqual([]);
    const st = report.snapshots.find((x) => x.id === second.id)!;
    expect(st.tier).toBe('yearly');
    const yearlyUntil = Date.parse(second.time) + 5 * DAY;
    expect(Date.parse(st.tierUntil!)).toBe(yearlyUntil);
    expect(Date.parse(st.protectedUntil!)).toBeGreaterThanOrEqual(yearlyUntil);
    // the first snapshot was not promoted: its protection stays the daily one
    const st1 = report.snapshots.find((x) => x.id === first.id)!;
    expect(st1.tier).toBeUndefined();

    // Holds are audited too; the whole log is in the bucket, read without this computer's catalog.
    await holdSnapshot(repo, second.id, true, undefined, 'test');
    await holdSnapshot(repo, second.id, false, undefined, 'test');
    const fresh = await Repository.open(store, PASSWORD, Catalog.open(':memory:'));
    const log = await readAuditLog(fresh);
    fresh.catalog.close();
    const actions = log.entries.map((e) => e.action);
    for (const a of ['backup', 'policy-set', 'forget', 'prune', 'hold', 'release-hold'])
      expect(actions, a).toContain(a);
    expect(log.entries.filter((e) => e.action === 'backup' && e.subject === null)).toHaveLength(1); // killed
    expect(log.entries.find((e) => e.action === 'hold')).toMatchObject({ actor: 'test', subject: second.id });
    expect(log.damaged).toEqual([]);
  });
});
