/**
 * A server that answers the first requests and then freezes (keeps the connection, sends nothing more):
 * a backup, a restore and the service's backup job fail within the store's timeouts with "the server at
 * … stopped answering", instead of hanging. Ceph RGW (test/harness/rgw.ts) behind a freezing proxy
 * (helpers/freezing-proxy.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { backup } from '../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../src-main/engine/catalog/catalog.ts';
import { isBulwarkError, type BulwarkError } from '../../src-main/engine/errors.ts';
import { restoreSnapshot } from '../../src-main/engine/ops/restore.ts';
import { initRepository, Repository } from '../../src-main/engine/repo/repository.ts';
import { createBackupService } from '../../src-main/engine/service/service.ts';
import type { S3Store, S3Timeouts } from '../../src-main/engine/storage/s3.ts';
import { startFreezingProxy, type FreezingProxy } from './helpers/freezing-proxy.ts';
import { PASSWORD, TEST_KDF, tempDir } from './helpers/repo.ts';
import { useLockBucket } from './helpers/rgw-bucket.ts';

const LOCK = { mode: 'COMPLIANCE', days: 1, paddingDays: 1 } as const;
const TIMEOUTS: S3Timeouts = { connectMs: 500, idleMs: 1500, retryDeadlineMs: 3000 };
const MiB = 1024 * 1024;

const s3 = useLockBucket('frozen');
const work = tempDir('frozen');
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

async function proxy(): Promise<FreezingProxy> {
  const p = await startFreezingProxy(s3.rgw().endpoint);
  cleanups.push(() => p.close());
  return p;
}

function frozenStore(p: FreezingProxy, prefix: string): S3Store {
  const store = s3.store(prefix, { endpoint: p.endpoint, timeouts: TIMEOUTS });
  cleanups.push(() => store.close());
  return store;
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

function source(tag: string): string {
  const dir = join(work, tag);
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'a.txt'), 'alpha\n'.repeat(1000));
  writeFileSync(join(dir, 'sub', 'b.bin'), randomBytes(200_000));
  return dir;
}

describe('a server that freezes in the middle of a transfer', () => {
  it('a backup fails with "stopped answering" when an upload freezes mid-body; a restore, when a download does', async () => {
    const p = await proxy();
    const prefix = `backup-${randomBytes(4).toString('hex')}`;
    const store = frozenStore(p, prefix);
    await initRepository(store, PASSWORD, { kdf: TEST_KDF, lock: LOCK });
    const catalog = Catalog.open(join(work, `${prefix}.db`));
    cleanups.push(() => catalog.close());
    const repo = await Repository.open(store, PASSWORD, catalog);
    const src = source('src1');
    // the server answers the first requests: a whole backup goes through
    const first = await backup(repo, { paths: [src], readers: 2 });
    expect(first.stats.files).toBe(2);

    // then it freezes 256 KiB into the next pack upload (4 MiB of new data)
    writeFileSync(join(src, 'big.bin'), randomBytes(4 * MiB));
    p.freezeWhen((r) => r.method === 'PUT' && r.url.includes('/packs/'), 256 * 1024);
    const t0 = performance.now();
    const e = await errorOf(backup(repo, { paths: [src], readers: 2 }));
    const ms = performance.now() - t0;
    expect(p.frozen).toBe(true);
    expect(e.code).toBe('NETWORK');
    expect(e.message).toContain(`the server at ${p.endpoint} stopped answering (no reply for 1.5 s)`);
    expect(ms).toBeLessThan(30_000);

    // a restore through a server that freezes 64 KiB into a pack download
    const p2 = await proxy();
    const store2 = frozenStore(p2, prefix);
    const catalog2 = Catalog.open(join(work, `${prefix}-2.db`));
    cleanups.push(() => catalog2.close());
    const repo2 = await Repository.open(store2, PASSWORD, catalog2);
    await repo2.syncIndexes();
    await repo2.syncSnapshots();
    p2.freezeWhen((r) => r.method === 'GET' && r.url.includes('/packs/'), 64 * 1024);
    const out = join(work, 'restored');
    const t1 = performance.now();
    const r = await restoreSnapshot(repo2, { snapshot: first.id, target: out }).then(
      (report) => report.errors.map((x) => x.message).join('\n'),
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    expect(p2.frozen).toBe(true);
    expect(r).toContain(`the server at ${p2.endpoint} stopped answering (no reply for 1.5 s)`);
    expect(performance.now() - t1).toBeLessThan(30_000);
  }, 90_000);

  it('the service: a target that freezes mid-backup fails the job with that message and raises target-unreachable', async () => {
    const p = await proxy();
    const prefix = `svc-${randomBytes(4).toString('hex')}`;
    const store = frozenStore(p, prefix);
    const svcHome = join(work, 'svc-home');
    const svc = createBackupService({
      home: svcHome,
      passwordFor: () => PASSWORD,
      kdf: TEST_KDF,
      backup: { readers: 2 },
      storeFor: () => store,
    });
    cleanups.push(() => svc.stop());
    const target = await svc.addTarget(
      { name: 'NAS', location: `s3://${s3.bucket()}/${prefix}` },
      { initialize: true, lock: LOCK },
    );
    const src = source('src2');
    const s = await svc.addSource({ name: 'Documents', paths: [src], targetId: target.id });
    expect((await svc.waitForJob(svc.runNow(s.id).id)).state).toBe('SUCCEEDED');

    writeFileSync(join(src, 'big.bin'), randomBytes(4 * MiB));
    p.freezeWhen((r) => r.method === 'PUT' && r.url.includes('/packs/'), 256 * 1024);
    const t0 = performance.now();
    const job = await svc.waitForJob(svc.runNow(s.id).id);
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(p.frozen).toBe(true);
    expect(job.state).toBe('FAILED');
    expect(job.error?.code).toBe('NETWORK');
    expect(job.error?.message).toContain(
      `the server at ${p.endpoint} stopped answering (no reply for 1.5 s)`,
    );
    // the target's alert (its wording is the service's own: asserted loosely)
    const alerts = svc.alerts.list({ active: true }).filter((a) => a.kind === 'target-unreachable');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ targetId: target.id });
    expect(`${alerts[0]!.text} ${alerts[0]!.action ?? ''}`).toMatch(/stopped answering|frozen|not answer/);
  }, 90_000);
});
