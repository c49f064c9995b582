/**
 * What the service does on a signal, on a locking in-memory store (fast; the RGW test does it on a real
 * server): the last clean snapshot is the newest one from before the signal's files changed, held by lock
 * and legal hold; "this was me" lifts the legal hold; a folder target can
 * only mark it, and says so.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { objectNames } from '../../../src-main/engine/repo/format.ts';
import { prunePausedReason } from '../../../src-main/engine/retention/marks.ts';
import { createBackupService, type BackupService } from '../../../src-main/engine/service/service.ts';
import { MemoryStore } from '../../../src-main/engine/storage/memory.ts';
import { PASSWORD, TEST_KDF } from '../helpers/repo.ts';
import { otherDisk } from '../service/helpers/disk.ts';
import { tempDir } from '../service/helpers/util.ts';

/** A locking memory store whose clock runs `aheadMs` ahead of this computer's. */
class AheadStore extends MemoryStore {
  private readonly aheadMs: number;
  constructor(aheadMs: number) {
    super();
    this.aheadMs = aheadMs;
  }
  override async serverTime(): Promise<Date> {
    return new Date((await super.serverTime()).getTime() + this.aheadMs);
  }
}

describe('ransomware guard in the service', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });

  async function setup(locked: boolean, serverAheadMs = 0) {
    const t = tempDir('guard');
    cleanups.push(() => t.cleanup());
    const data = join(t.dir, 'office');
    mkdirSync(data);
    for (let i = 0; i < 10; i++) writeFileSync(join(data, `f${i}.txt`), `document ${i}\n`.repeat(100));
    const store = new AheadStore(serverAheadMs);
    const svc: BackupService = createBackupService({
      home: join(t.dir, 'home'),
      passwordFor: () => PASSWORD,
      kdf: TEST_KDF,
      watch: { enabled: false },
      disk: otherDisk(t.dir),
      ...(locked ? { storeFor: () => store } : {}),
    });
    cleanups.push(() => svc.stop());
    const target = locked
      ? await svc.addTarget(
          { name: 'Cloud', location: 's3://office/pc' },
          { initialize: true, lock: { mode: 'COMPLIANCE', days: 7, paddingDays: 1 } },
        )
      : undefined;
    const s = await svc.addSource({
      name: 'Office',
      paths: [data],
      ...(target ? { targetId: target.id } : {}),
    });
    const first = await svc.waitForJob(svc.runNow(s.id).id);
    return { svc, s, data, store, first: first.snapshotId ?? '' };
  }

  it('holds the snapshot from before, pauses prune; "this was me" lifts the legal hold', async () => {
    const { svc, s, data, store, first } = await setup(true);
    const before = await store.head(objectNames.snapshot(first));
    for (let i = 0; i < 5; i++) svc.signals.observe(s.id, 'add', join(data, `f${i}.txt.wncry`));
    const alert = svc.listAlerts({ active: true })[0];
    expect(alert).toMatchObject({ kind: 'ransomware-suspected', severity: 'critical', sourceId: s.id });
    await svc.signals.whenIdle();
    const [sig] = svc.listSignals(s.id);
    expect(sig?.lastClean).toMatchObject({ snapshotId: first, legalHold: true });
    const after = await store.head(objectNames.snapshot(first));
    expect(after.legalHold).toBe(true);
    expect(after.retainUntil!.getTime()).toBeGreaterThan(before.retainUntil!.getTime() + 29 * 86_400_000);
    expect(prunePausedReason(svc.catalog)).toMatch(/ransomware/);

    // more signs join the same incident: one alert
    svc.signals.observe(s.id, 'add', join(data, 'HOW_TO_DECRYPT.txt'));
    expect(svc.listAlerts({ active: true }).filter((a) => a.kind === 'ransomware-suspected')).toHaveLength(1);
    expect(svc.listSignals(s.id)[0]?.incident?.signals.map((x) => x.kind)).toEqual([
      'ransom-extension',
      'ransom-note',
    ]);

    const done = await svc.resolveSignal(s.id, 'was-me');
    expect(done).toMatchObject({ resolution: 'was-me', lastClean: { legalHold: false } });
    expect((await store.head(objectNames.snapshot(first))).legalHold).toBe(false);
    expect(svc.listAlerts({ active: true })).toEqual([]);
    expect(prunePausedReason(svc.catalog)).toBeUndefined();
    await expect(svc.resolveSignal(s.id, 'handled')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a backup that ended here just before the attack is the clean one, though the server clock runs ahead', async () => {
    // S3Store.serverTime estimates the server's clock from a Date header (±0.5 s): a snapshot's time can
    // lie after the moment this computer saw the first encrypted file, though its backup ended before
    const { svc, s, data, first } = await setup(true, 800);
    const repo = await svc.repositoryFor(s.id);
    expect(Date.parse(repo.catalog.snapshot(repo.rid, first)?.time ?? '')).toBeGreaterThan(Date.now());
    for (let i = 0; i < 5; i++) svc.signals.observe(s.id, 'add', join(data, `f${i}.txt.locky`));
    expect(svc.listAlerts({ active: true })[0]).toMatchObject({ kind: 'ransomware-suspected' });
    await svc.signals.whenIdle();
    expect(svc.listSignals(s.id)[0]?.lastClean).toMatchObject({ snapshotId: first, legalHold: true });
  });

  it('a folder target: the last clean snapshot is marked, and the alert says it could not be locked', async () => {
    const { svc, s, data, first } = await setup(false);
    svc.signals.observe(s.id, 'add', join(data, 'README_DECRYPT.txt'));
    await svc.signals.whenIdle();
    expect(svc.listSignals(s.id)[0]?.lastClean).toEqual({
      snapshotId: first,
      time: expect.any(String),
      heldUntil: null,
      legalHold: false,
    });
    expect(svc.listAlerts({ active: true })[0]?.text).toMatch(/cannot lock backups/);
  });

  it('decoys: placed in the folder, any change is a signal, removed when opting out', async () => {
    const { svc, s, data } = await setup(false);
    mkdirSync(join(data, 'sub'));
    const decoys = svc.setCanaries(s.id, true);
    expect(decoys.map((p) => p.slice(data.length))).toEqual([
      '/.0-bulwark-decoy-do-not-open.docx',
      '/sub/.0-bulwark-decoy-do-not-open.docx',
    ]);
    svc.signals.observe(s.id, 'add', decoys[0] ?? '');
    expect(svc.listAlerts({ active: true })).toEqual([]);
    svc.signals.observe(s.id, 'unlink', decoys[1] ?? '');
    expect(svc.listSignals(s.id)[0]?.incident?.signals.map((x) => x.kind)).toEqual(['canary']);
    await svc.signals.whenIdle();
    expect(svc.setCanaries(s.id, false)).toEqual([]);
    expect(svc.listSignals(s.id)[0]?.canaries).toEqual([]);
  });
});
