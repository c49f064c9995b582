/**
 * Ransomware signals end to end (issue 13, must-show 2): a real watched folder, the real watcher, the real
 * service backing up to a real S3 server with Object Lock (Ceph RGW). 200 documents are encrypted (AES-256,
 * a random key) and renamed to .locky within seconds: the alert is raised within one quiet period, the
 * snapshot from before is marked last clean and held (on RGW: its locks last longer than before, legal
 * hold on), prune pauses, backups go on, and restoring the held snapshot gives back the original bytes.
 * A scripted working day (edits, Word-style saves, a 2 000-file unzip, a software update) raises nothing.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { objectNames } from '../../../src-main/engine/repo/format.ts';
import { prunePausedReason } from '../../../src-main/engine/retention/marks.ts';
import {
  createBackupService,
  type BackupService,
  type BackupServiceOptions,
} from '../../../src-main/engine/service/service.ts';
import { snapshotClosure } from '../../../src-main/engine/locks/closure.ts';
import {
  editDocuments,
  encryptAndRename,
  makeOffice,
  Rng,
  saveLikeWord,
  softwareUpdate,
  unzip,
} from '../../../bench/office-work.ts';
import { PASSWORD, TEST_KDF } from '../helpers/repo.ts';
import { useLockBucket } from '../helpers/rgw-bucket.ts';
import { otherDisk } from './helpers/disk.ts';
import { tempDir, until } from './helpers/util.ts';

const QUIET_SECONDS = 5;
const lockBucket = useLockBucket('ransom');

describe('ransomware signals on a watched folder', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });

  function service(home: string, opts: Partial<BackupServiceOptions> = {}): BackupService {
    const svc = createBackupService({
      home,
      passwordFor: () => PASSWORD,
      kdf: TEST_KDF,
      backup: { readers: 2 },
      ...opts,
    });
    cleanups.push(() => svc.stop());
    return svc;
  }

  async function firstBackup(svc: BackupService, sourceId: string): Promise<string> {
    await until(
      () => svc.history({ sourceId }).some((r) => r.state === 'succeeded'),
      'the first backup',
      60_000,
    );
    await svc.whenIdle();
    await svc.whenWatching();
    const snap = svc.history({ sourceId }).find((r) => r.state === 'succeeded')?.snapshotId;
    if (!snap) throw new Error('no snapshot');
    return snap;
  }

  it('200 files encrypted and renamed: alert within one quiet period, the last clean snapshot held on RGW and restorable', async () => {
    const t = tempDir('ransom');
    cleanups.push(() => t.cleanup());
    const office = join(t.dir, 'office');
    const tree = makeOffice(office, 7, { docs: 200 });
    const prefix = `svc-${randomBytes(4).toString('hex')}`;
    const svc = service(join(t.dir, 'home'), {
      storeFor: () => lockBucket.store(prefix),
      disk: otherDisk(t.dir),
    });
    const target = await svc.addTarget(
      { name: 'Cloud', location: `s3://${lockBucket.bucket()}/${prefix}` },
      { initialize: true, lock: { mode: 'COMPLIANCE', days: 1, paddingDays: 1 } },
    );
    const source = await svc.addSource({
      name: 'Office',
      paths: [office],
      targetId: target.id,
      quietSeconds: QUIET_SECONDS,
    });
    await svc.start();
    const clean = await firstBackup(svc, source.id);
    const repo = await svc.repositoryFor(source.id);
    const before = await repo.store.head(objectNames.snapshot(clean));
    expect(before.retainUntil).toBeInstanceOf(Date);
    expect(before.legalHold).not.toBe(true);
    expect(prunePausedReason(svc.catalog)).toBeUndefined();

    const started = Date.now();
    const encrypted = encryptAndRename(office, 'locky');
    const finished = Date.now();
    expect(encrypted).toHaveLength(200);
    console.log(`encrypted and renamed 200 files in ${finished - started} ms`);
    await until(
      () => svc.listAlerts({ active: true }).some((a) => a.kind === 'ransomware-suspected'),
      'the ransomware alert',
      QUIET_SECONDS * 1000,
    );
    const alert = svc.listAlerts({ active: true }).find((a) => a.kind === 'ransomware-suspected');
    expect(alert).toMatchObject({ severity: 'critical', sourceId: source.id, fix: { page: 'restore' } });
    console.log(`alert raised ${(alert?.raisedAt ?? 0) - finished} ms after the last file was written`);
    expect(alert?.raisedAt ?? Infinity).toBeLessThanOrEqual(finished + QUIET_SECONDS * 1000);
    expect(alert?.text).toMatch(/^Possible ransomware in Office: .*\.locky/);
    expect(`${alert?.text ?? ''} ${alert?.action ?? ''}`).not.toMatch(/delete|bulwark |--|`/i);

    // the hold: marked in the catalog, locks extended and a legal hold on every object, on the server
    // the rest of the burst arrives: every signal it shows is added to the one incident (one alert)
    const kinds = (): string[] => svc.listSignals(source.id)[0]?.incident?.signals.map((s) => s.kind) ?? [];
    await until(
      () => ['ransom-extension', 'rename-burst', 'ransom-note'].every((k) => kinds().includes(k)),
      'every signal of the burst',
    );
    await svc.signals.whenIdle();
    const [signals] = svc.listSignals(source.id);
    expect(svc.listAlerts({ active: true }).filter((a) => a.kind === 'ransomware-suspected')).toHaveLength(1);
    expect(signals?.lastClean).toMatchObject({ snapshotId: clean, legalHold: true });
    const after = await repo.store.head(objectNames.snapshot(clean));
    expect(after.retainUntil?.getTime() ?? 0).toBeGreaterThan(before.retainUntil?.getTime() ?? Infinity);
    expect(after.legalHold).toBe(true);
    const snapshot = repo.catalog.snapshots(repo.rid).find((m) => m.id === clean);
    if (!snapshot) throw new Error('the clean snapshot is not in the catalog');
    for (const name of await snapshotClosure(repo, snapshot)) {
      const head = await repo.store.head(name);
      expect(head.legalHold, name).toBe(true);
      expect(head.retainUntil?.getTime() ?? 0, name).toBeGreaterThanOrEqual(
        after.retainUntil?.getTime() ?? Infinity,
      );
    }
    // the alert now says what was held
    expect(svc.listAlerts({ active: true }).find((a) => a.kind === 'ransomware-suspected')?.text).toMatch(
      /marked as the last clean one and locked until .*with a legal hold/,
    );
    expect(prunePausedReason(svc.catalog)).toMatch(/ransomware/);

    // backups go on (they cannot harm the locked history)
    await until(
      () => svc.history({ sourceId: source.id }).filter((r) => r.state === 'succeeded').length >= 2,
      'the backup after the attack',
      60_000,
    );

    // restoring the last clean snapshot gives back the original bytes
    const dest = join(t.dir, 'restored');
    const { planId, plan } = await svc.planRestore({
      sourceId: source.id,
      snapshotId: clean,
      paths: [''],
      destination: { kind: 'folder', path: dest },
    });
    expect(plan.totals.files).toBe(tree.files.size);
    const job = await svc.waitForJob(svc.startRestore(planId, 'overwrite').id);
    expect(job.state).toBe('SUCCEEDED');
    for (const [rel, content] of tree.files)
      expect(readFileSync(join(dest, 'office', rel)).equals(content), rel).toBe(true);

    // someone handled it: the alert clears, prune may run again, the legal hold stays
    const resolved = await svc.resolveSignal(source.id, 'handled');
    expect(resolved).toMatchObject({ resolution: 'handled', lastClean: { legalHold: true } });
    expect(svc.listAlerts({ active: true }).some((a) => a.kind === 'ransomware-suspected')).toBe(false);
    expect(prunePausedReason(svc.catalog)).toBeUndefined();
    expect((await repo.store.head(objectNames.snapshot(clean))).legalHold).toBe(true);
  });

  it('a scripted working day (edits, saves, a 2 000-file unzip, a software update) raises no alert', async () => {
    const t = tempDir('office-day');
    cleanups.push(() => t.cleanup());
    const office = join(t.dir, 'office');
    makeOffice(office, 11, { docs: 200, appFiles: 300 });
    const svc = service(join(t.dir, 'home'), { disk: otherDisk(t.dir) });
    const source = await svc.addSource({ name: 'Office', paths: [office], quietSeconds: 1 });
    await svc.start();
    await firstBackup(svc, source.id);
    const rng = new Rng(5);
    const backups = (): number =>
      svc.history({ sourceId: source.id }).filter((r) => r.state === 'succeeded').length;
    const step = async (what: string, work: () => void): Promise<void> => {
      const n = backups();
      work();
      await until(() => backups() > n, `the backup after ${what}`, 60_000);
      await svc.whenIdle();
    };
    await step('edits', () => editDocuments(office, rng, 40));
    await step('saves', () => saveLikeWord(office, rng, 60));
    await step('the unzip', () => unzip(office, rng, 2000));
    await step('the update', () => expect(softwareUpdate(office, rng)).toBe(300));
    await step('more edits', () => editDocuments(office, rng, 40));
    await svc.signals.whenIdle();
    expect(svc.listAlerts({ active: true }).map((a) => a.kind)).toEqual([]);
    expect(svc.listSignals(source.id)[0]?.incident).toBeNull();
    expect(backups()).toBeGreaterThanOrEqual(6);
  });
});
