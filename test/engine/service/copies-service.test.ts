/**
 * 3-2-1 in the service (issue 13, must-show 3): a source with a copy target gets a `copy` job after each
 * backup; with its primary repository destroyed entirely, every snapshot restores from the copy byte for
 * byte. A copy target that is unplugged past the source's RPO raises `copy-behind` (the backups go on) and
 * the alert clears once the copy caught up.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog } from '../../../src-main/engine/catalog/catalog.ts';
import { FakeClock } from '../../../src-main/engine/clock.ts';
import { isBulwarkError } from '../../../src-main/engine/errors.ts';
import { restoreSnapshot } from '../../../src-main/engine/ops/restore.ts';
import { Repository } from '../../../src-main/engine/repo/repository.ts';
import {
  createBackupService,
  type BackupService,
  type BackupServiceOptions,
} from '../../../src-main/engine/service/service.ts';
import { summarize, type CopyPlace } from '../../../src-main/engine/service/copies.ts';
import { sourceKey } from '../../../src-main/engine/service/sources.ts';
import { FsStore } from '../../../src-main/engine/storage/fs.ts';
import { PASSWORD, TEST_KDF } from '../helpers/repo.ts';
import { otherDisk } from './helpers/disk.ts';
import { ManualTimers, tempDir, until } from './helpers/util.ts';

const MINUTE = 60_000;
/** Words an office manager must never be told: a command, an error code, a URL. */
const TERMINAL_WORDS = /\binit\b|bulwark (copy|serve|verify)|`|--|\$ |sudo|NOT_FOUND|REPO_|file:\/\//i;

describe('copy targets (3-2-1) in the service', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });

  function env() {
    const t = tempDir('copies');
    cleanups.push(() => t.cleanup());
    const data = join(t.dir, 'office');
    mkdirSync(join(data, 'letters'), { recursive: true });
    writeFileSync(join(data, 'a.txt'), 'alpha');
    writeFileSync(join(data, 'letters', 'big.bin'), randomBytes(600_000));
    return {
      dir: t.dir,
      home: join(t.dir, 'home'),
      data,
      main: join(t.dir, 'disks', 'main', 'bulwark'),
      usb: join(t.dir, 'disks', 'usb', 'bulwark'),
    };
  }

  async function started(e: ReturnType<typeof env>, opts: Partial<BackupServiceOptions> = {}) {
    const clock = new FakeClock(Date.now());
    const timers = new ManualTimers(clock);
    const svc: BackupService = createBackupService({
      home: e.home,
      passwordFor: () => PASSWORD,
      kdf: TEST_KDF,
      backup: { readers: 2 },
      watch: { enabled: false },
      clock,
      timers,
      // both folder targets are on other disks than the office folder
      disk: otherDisk(join(e.dir, 'disks')),
      ...opts,
    });
    cleanups.push(() => svc.stop());
    const main = await svc.addTarget({ name: 'Main disk', location: e.main }, { initialize: true });
    const usb = await svc.addTarget({ name: 'USB disk', location: e.usb }, { initialize: true });
    return { svc, clock, timers, main, usb };
  }

  const jobsOf = (svc: BackupService, kind: string) => svc.listJobs().filter((j) => j.kind === kind);

  it('copies every backup; with the primary destroyed, every snapshot restores from the copy', async () => {
    const e = env();
    const { svc, main, usb } = await started(e);
    const s = await svc.addSource({
      name: 'Office',
      paths: [e.data],
      targetId: main.id,
      copyTargetIds: [usb.id],
    });
    expect(s.copyTargetIds).toEqual([usb.id]);

    // refused in plain words: its own target, a target that does not exist
    await expect(svc.updateSource(s.id, { copyTargetIds: [main.id] })).rejects.toSatisfy((x) =>
      isBulwarkError(x, 'INVALID_ARGUMENT'),
    );
    await expect(svc.updateSource(s.id, { copyTargetIds: ['nope'] })).rejects.toSatisfy((x) =>
      isBulwarkError(x, 'NOT_FOUND'),
    );
    // a target a source copies to cannot be removed from under it
    expect(() => svc.removeTarget(usb.id)).toThrow(/Office/);

    const versions = new Map<string, string>();
    const keep = (snapshotId: string | null | undefined): void => {
      if (!snapshotId) throw new Error('the backup made no snapshot');
      const kept = join(e.dir, 'versions', snapshotId, basename(e.data));
      cpSync(e.data, kept, { recursive: true });
      versions.set(snapshotId, kept);
    };

    await svc.start();
    await until(() => jobsOf(svc, 'copy').some((j) => j.state === 'SUCCEEDED'), 'the first copy');
    await svc.whenIdle();
    keep(svc.history({ sourceId: s.id })[0]?.snapshotId);

    writeFileSync(join(e.data, 'letters', 'new.txt'), 'a letter written after the first backup');
    writeFileSync(join(e.data, 'a.txt'), 'alpha, edited');
    const job = svc.runNow(s.id);
    await svc.waitForJob(job.id);
    await until(
      () => jobsOf(svc, 'copy').filter((j) => j.state === 'SUCCEEDED').length === 2,
      'the second copy',
    );
    await svc.whenIdle();
    keep(svc.history({ sourceId: s.id })[0]?.snapshotId);
    expect(versions.size).toBe(2);

    const copies = jobsOf(svc, 'copy');
    expect(copies.every((j) => j.sourceId === s.id && j.targetId === usb.id)).toBe(true);
    // the copy's audit entries are in the copy target's repository (copy.ts writes one per snapshot)
    const audited = svc.catalog.db
      .prepare<[], { n: number }>("SELECT count(*) AS n FROM audit WHERE action = 'copy'")
      .get()!.n;
    expect(audited).toBeGreaterThanOrEqual(2);

    const status = svc.getSource(s.id).copies;
    expect(status.places.map((p) => [p.name, p.primary, p.medium, p.offsite, p.behind])).toEqual([
      ['Main disk', true, 'other-disk', false, false],
      ['USB disk', false, 'other-disk', false, false],
    ]);
    expect(status.places[1]!.newestAt).toBe(status.places[0]!.newestAt);
    expect(status).toMatchObject({ copies: 2, offsite: 0, met: false });
    expect(status.summary).toBe('2 copies · none off-site — add an off-site copy');
    expect(status.missing).toEqual(['Add an off-site copy: a cloud bucket.']);

    // the main disk is destroyed entirely: every snapshot comes back from the copy, on a fresh catalog
    await svc.stop();
    rmSync(join(e.dir, 'disks', 'main'), { recursive: true, force: true });
    const catalog = Catalog.open(join(e.dir, 'fresh.db'));
    cleanups.push(() => catalog.close());
    const repo = await Repository.open(new FsStore({ root: e.usb }), PASSWORD, catalog);
    await repo.syncIndexes();
    const snaps = (await repo.syncSnapshots()).filter((m) => m.source === sourceKey(s.id));
    expect(snaps).toHaveLength(2);
    for (const m of snaps) {
      const expected = versions.get(m.copiedFrom?.snapshot ?? '');
      expect(expected, `the copy of ${m.id} names its source snapshot`).toBeDefined();
      const out = join(e.dir, 'restored', m.id);
      const r = await restoreSnapshot(repo, { snapshot: m.id, target: out });
      expect(r.errors).toEqual([]);
      execFileSync('diff', ['-r', expected!, join(out, basename(e.data))], { stdio: 'pipe' });
    }
  });

  it('an unplugged copy target past the RPO: copy-behind, backups go on; cleared once it caught up', async () => {
    const e = env();
    const { svc, clock, main, usb } = await started(e);
    const s = await svc.addSource({
      name: 'Office',
      paths: [e.data],
      targetId: main.id,
      rpoMinutes: 60,
      copyTargetIds: [usb.id],
    });
    await svc.start();
    await until(() => jobsOf(svc, 'copy').some((j) => j.state === 'SUCCEEDED'), 'the first copy');
    await svc.whenIdle();

    // the USB disk is unplugged; an hour and more later the office changes and is backed up
    const unplugged = join(e.dir, 'disks', 'usb-away');
    renameSync(join(e.dir, 'disks', 'usb'), unplugged);
    clock.advance(61 * MINUTE);
    writeFileSync(join(e.data, 'a.txt'), 'alpha, changed while the disk was away');
    const job = svc.runNow(s.id);
    expect((await svc.waitForJob(job.id)).state).toBe('SUCCEEDED');
    await until(() => jobsOf(svc, 'copy').some((j) => j.state === 'FAILED'), 'the failed copy');
    await svc.whenIdle();

    const open = svc.listAlerts({ active: true, sourceId: s.id }).filter((a) => a.kind === 'copy-behind');
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ severity: 'warning', targetId: usb.id, fix: { page: 'sources' } });
    expect(open[0]!.text).toMatch(/USB disk/);
    expect(`${open[0]!.text} ${open[0]!.action ?? ''}`).not.toMatch(TERMINAL_WORDS);
    // the source itself is protected by its main destination: the copy is late, not the backups
    const st = svc.getSource(s.id);
    expect(st.protection.state).toBe('protected');
    expect(st.copies).toMatchObject({ copies: 1, met: false });
    expect(st.copies.places[1]).toMatchObject({ behind: true });
    expect(st.copies.summary).toBe('Only one copy — add an off-site copy');

    // plugged back in: the tick retries the late copy, which catches up and clears the alert
    renameSync(unplugged, join(e.dir, 'disks', 'usb'));
    clock.advance(16 * MINUTE);
    svc.tick();
    await until(
      () => jobsOf(svc, 'copy').filter((j) => j.state === 'SUCCEEDED').length === 2,
      'the copy after the disk is back',
    );
    await svc.whenIdle();
    expect(svc.listAlerts({ active: true, sourceId: s.id }).filter((a) => a.kind === 'copy-behind')).toEqual(
      [],
    );
    expect(svc.getSource(s.id).copies).toMatchObject({ copies: 2 });
  });
});

describe('3-2-1 in words (summarize)', () => {
  const place = (over: Partial<CopyPlace>): CopyPlace => ({
    targetId: 't',
    name: 'Main disk',
    primary: false,
    medium: 'other-disk',
    offsite: false,
    newestAt: 1,
    lastAttemptAt: null,
    lastError: null,
    behind: false,
    ...over,
  });

  it('met: a NAS and a cloud bucket', () => {
    const r = summarize([
      place({ name: 'NAS', primary: true, medium: 'nas' }),
      place({ name: 'Cloud', medium: 'cloud', offsite: true }),
    ]);
    expect(r).toMatchObject({ met: true, copies: 2, offsite: 1, media: ['nas', 'cloud'], missing: [] });
    expect(r.summary).toBe('2 copies · 1 off-site');
  });

  it('only this computer’s disk: one copy, say what is missing', () => {
    const r = summarize([place({ name: 'This computer', primary: true, medium: 'this-disk' })]);
    expect(r.met).toBe(false);
    expect(r.summary).toBe('Only one copy — add an off-site copy');
    expect(r.missing).toEqual([
      'Add an off-site copy: a cloud bucket.',
      'Keep a copy off this computer’s disk: a NAS folder, an external disk or a cloud bucket.',
    ]);
  });

  it('a late or empty copy does not count: never greener than the truth', () => {
    const r = summarize([
      place({ name: 'NAS', primary: true, medium: 'nas' }),
      place({ name: 'Cloud', medium: 'cloud', offsite: true, behind: true }),
      place({ name: 'USB disk', newestAt: null }),
    ]);
    expect(r).toMatchObject({ met: false, copies: 1, offsite: 0 });
    expect(r.missing).toContain('Reconnect Cloud: its copy is late.');
    expect(summarize([]).summary).toBe('No copy yet');
  });
});
