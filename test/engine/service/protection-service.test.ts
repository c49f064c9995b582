/**
 * The service's protection status and alerts against real folders (DESIGN §8): a status never greener
 * than the truth, that changes with the event that changed it, and one alert per cause, worded for an
 * office manager, cleared when the cause is gone.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src-main/engine/clock.ts';
import type { Alert } from '../../../src-main/engine/service/alerts.ts';
import {
  createBackupService,
  type BackupService,
  type BackupServiceOptions,
} from '../../../src-main/engine/service/service.ts';
import type { WatchFactory } from '../../../src-main/engine/service/watcher.ts';
import { MemoryStore } from '../../../src-main/engine/storage/memory.ts';
import { PASSWORD, TEST_KDF } from '../helpers/repo.ts';
import { otherDisk } from './helpers/disk.ts';
import { ManualTimers, tempDir, until } from './helpers/util.ts';

const MINUTE = 60_000;
/** Words an office manager must never be told to type or do: a command, creating a repository. */
const TERMINAL_OR_CREATE = /\binit\b|creat|bulwark |`|--|\$ |sudo|sysctl|inotify|NOT_FOUND|REPO_|file:\/\//i;

describe('protection status and alerts of the service', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });

  function env() {
    const t = tempDir('protection');
    cleanups.push(() => t.cleanup());
    const data = join(t.dir, 'office');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'a.txt'), 'alpha');
    return { dir: t.dir, home: join(t.dir, 'home'), data, nas: join(t.dir, 'nas', 'bulwark') };
  }

  function service(home: string, opts: Partial<BackupServiceOptions> = {}): BackupService {
    const svc = createBackupService({
      home,
      passwordFor: () => PASSWORD,
      kdf: TEST_KDF,
      backup: { readers: 2 },
      watch: { enabled: false },
      ...opts,
    });
    cleanups.push(() => svc.stop());
    return svc;
  }

  /** A started service on a fake clock (its timers fire only when the test moves them). */
  async function started(e: ReturnType<typeof env>, opts: Partial<BackupServiceOptions> = {}) {
    const clock = new FakeClock(Date.now());
    const timers = new ManualTimers(clock);
    const svc = service(e.home, { clock, timers, disk: otherDisk(join(e.dir, 'nas')), ...opts });
    const alerts: Alert[] = [];
    const changed: string[] = [];
    svc.on('alert.raised', (a) => alerts.push(a));
    svc.on('source.changed', (c) => changed.push(c.sourceId));
    return { svc, clock, timers, alerts, changed };
  }

  it('an offline NAS: at risk at once, exactly one alert in plain words, cleared when it is back', async () => {
    const e = env();
    const { svc, clock, timers, alerts, changed } = await started(e);
    const nas = await svc.addTarget({ name: 'NAS', location: e.nas }, { initialize: true });
    const s = await svc.addSource({ name: 'Office', paths: [e.data], targetId: nas.id });
    expect(svc.getSource(s.id).protection.summary).toBe('Not protected: automatic backups are not running');
    await svc.start();
    await until(() => svc.history({ sourceId: s.id }).length === 1, 'the first backup');
    await svc.whenIdle();
    expect(svc.getSource(s.id)).toMatchObject({ protected: true, protection: { state: 'protected' } });
    expect(svc.overallProtection()).toMatchObject({ state: 'protected', headline: '1 folder protected' });

    // the NAS is switched off: its folder is gone. The status says so before any backup fails.
    renameSync(join(e.dir, 'nas'), join(e.dir, 'nas-off'));
    expect(svc.getSource(s.id).protection).toMatchObject({
      state: 'at-risk',
      summary: 'At risk: its backup destination cannot be reached',
    });
    changed.length = 0;
    const failed = await svc.waitForJob(svc.runNow(s.id).id);
    expect(failed.state).toBe('FAILED');
    expect(changed).toContain(s.id); // the alert and the run announced the change
    const open = svc.listAlerts({ active: true });
    expect(open.map((a) => [a.kind, a.targetId, a.sourceId])).toEqual([['target-unreachable', nas.id, null]]);
    const [a] = open;
    expect(a!.text).toContain(e.nas);
    expect(a!.text).toMatch(/cannot be found, so Office is not being backed up.*disconnected/);
    expect(a!.action).toMatch(/Reconnect/);
    expect(`${a!.text} ${a!.action}`).not.toMatch(TERMINAL_OR_CREATE);
    expect(a!.fix).toEqual({ page: 'targets', label: 'Open Targets' });

    // hours later (retries failing meanwhile): still the one alert, no backup-failed, no rpo-missed
    for (let i = 0; i < 4; i++) {
      timers.advance(30 * MINUTE);
      await svc.whenIdle();
    }
    expect(clock.now().getTime() - (svc.getSource(s.id).lastSuccessAt ?? 0)).toBeGreaterThan(60 * MINUTE);
    expect(svc.listAlerts({ active: true }).map((x) => x.kind)).toEqual(['target-unreachable']);
    expect(alerts.map((x) => x.kind)).toEqual(['target-unreachable']);
    const late = svc.getSource(s.id).protection;
    expect(late.state).toBe('not-protected');
    expect(late.reasons.map((r) => r.code)).toEqual(['target-unreachable', 'rpo-missed']);
    expect(svc.overallProtection().headline).toBe(
      'Office is not protected: its backup destination cannot be reached',
    );

    // back on: the next tick retries at once, the good run clears the alert
    renameSync(join(e.dir, 'nas-off'), join(e.dir, 'nas'));
    const runs = svc.history({ sourceId: s.id }).length;
    svc.tick();
    await svc.whenIdle();
    expect(svc.history({ sourceId: s.id })).toHaveLength(runs + 1);
    expect(svc.history({ sourceId: s.id })[0]).toMatchObject({ state: 'succeeded' });
    expect(svc.listAlerts({ active: true })).toEqual([]);
    expect(svc.getSource(s.id).protection.state).toBe('protected');
  });

  it('an unmounted share whose mount point stays behind (empty) reads as disconnected too', async () => {
    const e = env();
    const mount = join(e.dir, 'nas');
    const { svc } = await started(e);
    const nas = await svc.addTarget({ name: 'NAS', location: mount }, { initialize: true });
    const s = await svc.addSource({ name: 'Office', paths: [e.data], targetId: nas.id });
    expect((await svc.waitForJob(svc.runNow(s.id).id)).state).toBe('SUCCEEDED');
    renameSync(mount, `${mount}-share`);
    mkdirSync(mount); // the empty mount point
    expect((await svc.waitForJob(svc.runNow(s.id).id)).state).toBe('FAILED');
    const [a, ...more] = svc.listAlerts({ active: true });
    expect(more).toEqual([]);
    expect(a).toMatchObject({ kind: 'target-unreachable', targetId: nas.id });
    expect(a!.text).toMatch(/cannot be found, so Office is not being backed up/);
    expect(`${a!.text} ${a!.action}`).not.toMatch(TERMINAL_OR_CREATE);
  });

  it('a missing source folder: source-missing (not watch-degraded), cleared and retried when it is back', async () => {
    const e = env();
    // a watcher that reports the folder missing, as chokidar does for a root that is not there
    const factory: WatchFactory = (_paths, _opts, cb) => {
      queueMicrotask(() => cb.onReady());
      return { close: async () => undefined };
    };
    const { svc } = await started(e, { watch: { factory } });
    const nas = await svc.addTarget({ name: 'NAS', location: e.nas }, { initialize: true });
    const s = await svc.addSource({ name: 'Office', paths: [e.data], targetId: nas.id });
    await svc.waitForJob(svc.runNow(s.id).id);

    renameSync(e.data, `${e.data}-moved`);
    await svc.start();
    await svc.whenWatching();
    await svc.whenIdle();
    const failed = await svc.waitForJob(svc.runNow(s.id).id);
    expect(failed.state).toBe('FAILED');
    const open = svc.listAlerts({ active: true });
    expect(open.map((a) => [a.kind, a.sourceId])).toEqual([['source-missing', s.id]]);
    expect(open[0]!.text).toBe(
      `The folder ${e.data} of Office cannot be found, so it is not being backed up. It was moved or renamed, ` +
        'or the disk or network share it is on is disconnected.',
    );
    expect(`${open[0]!.text} ${open[0]!.action}`).not.toMatch(TERMINAL_OR_CREATE);
    expect(open[0]!.fix?.page).toBe('sources');
    expect(svc.getSource(s.id).protection).toMatchObject({
      state: 'at-risk',
      summary: 'At risk: the folder cannot be found',
    });

    renameSync(`${e.data}-moved`, e.data);
    svc.tick();
    expect(svc.listAlerts({ active: true })).toEqual([]);
    await svc.whenIdle();
    expect(svc.history({ sourceId: s.id })[0]).toMatchObject({
      state: 'succeeded',
      stats: { reason: 'retry' },
    });
    expect(svc.getSource(s.id).protection.state).toBe('protected');
  });

  it('pausing one source, or all: at risk "paused" at once, announced; resuming restores it', async () => {
    const e = env();
    const { svc, changed } = await started(e);
    const nas = await svc.addTarget({ name: 'NAS', location: e.nas }, { initialize: true });
    const other = join(e.dir, 'scans');
    mkdirSync(other);
    const s = await svc.addSource({ name: 'Office', paths: [e.data], targetId: nas.id });
    const t = await svc.addSource({ name: 'Scans', paths: [other], targetId: nas.id });
    await svc.start();
    await until(() => svc.history().length === 2, 'the first backups');
    await svc.whenIdle();
    expect(svc.listSources().map((x) => x.protection.state)).toEqual(['protected', 'protected']);

    changed.length = 0;
    const paused = await svc.updateSource(s.id, { enabled: false });
    expect(paused.protection).toMatchObject({
      state: 'at-risk',
      summary: 'At risk: backups of this folder are paused',
    });
    expect(paused.protection.reasons[0]?.fix).toEqual({ page: 'sources', label: 'Resume this folder' });
    expect(changed).toEqual([s.id]);
    expect(svc.getSource(t.id).protection.state).toBe('protected');
    // a paused folder does not count in the headline
    expect(svc.overallProtection()).toMatchObject({ state: 'protected', headline: '1 folder protected' });
    expect((await svc.updateSource(s.id, { enabled: true })).protection.state).toBe('protected');

    changed.length = 0;
    svc.pauseAll();
    expect(changed.sort()).toEqual([s.id, t.id].sort());
    expect(svc.listSources().map((x) => x.protection.summary)).toEqual([
      'At risk: backups are paused',
      'At risk: backups are paused',
    ]);
    expect(svc.overallProtection().headline).toBe('All 2 folders at risk: backups are paused');
    changed.length = 0;
    svc.resumeAll();
    expect(changed.sort()).toEqual([s.id, t.id].sort());
    expect(svc.listSources().every((x) => x.protected)).toBe(true);
  });

  it('an S3 target is protected only with Object Lock; a folder on the same disk never is', async () => {
    const e = env();
    const { svc } = await started(e, { storeFor: () => new MemoryStore() });
    const open = await svc.addTarget({ name: 'Cloud', location: 's3://office/pc1' }, { initialize: true });
    const locked = await svc.addTarget(
      { name: 'Locked cloud', location: 's3://office/pc2' },
      { initialize: true, lock: { mode: 'COMPLIANCE', days: 7, paddingDays: 1 } },
    );
    const scans = join(e.dir, 'scans');
    mkdirSync(scans);
    const a = await svc.addSource({ name: 'Office', paths: [e.data], targetId: open.id });
    const b = await svc.addSource({ name: 'Scans', paths: [scans], targetId: locked.id });
    await svc.start();
    await until(() => svc.history().length === 2, 'the first backups');
    await svc.whenIdle();
    expect(svc.getSource(a.id).protection).toMatchObject({
      state: 'at-risk',
      summary: 'At risk: its backups are not locked against deletion',
    });
    expect(svc.getSource(b.id).protection.state).toBe('protected');

    // the embedded default target, in the data folder: the same disk as the folder
    const e2 = env();
    const svc2 = service(e2.home);
    const c = await svc2.addSource({ name: 'Office', paths: [e2.data] });
    await svc2.waitForJob(svc2.runNow(c.id).id);
    expect(svc2.getSource(c.id).protection.reasons.map((r) => r.code)).toContain('same-disk');
  });

  it('refuses at once, in plain words, a folder that is not there, a file, or a Windows path on Linux', async () => {
    const e = env();
    const svc = service(e.home);
    const missing = join(e.dir, 'nowhere');
    await expect(svc.addSource({ name: 'X', paths: [missing] })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: `There is no folder ${missing} on this computer.`,
    });
    const file = join(e.data, 'a.txt');
    await expect(svc.addSource({ name: 'X', paths: [file] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: `${file} is a file, not a folder: choose the folder it is in.`,
    });
    if (process.platform !== 'win32') {
      await expect(
        svc.addSource({ name: 'X', paths: ['C:\\Users\\office\\Documents'] }),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(
          /^C:\\Users\\office\\Documents is a Windows folder, but the Bulwark service runs on/,
        ),
      });
      await expect(svc.addSource({ name: 'X', paths: ['\\\\nas\\office'] })).rejects.toMatchObject({
        message: expect.stringMatching(/Windows network share/),
      });
    }
    await expect(svc.addSource({ name: 'X', paths: ['relative/folder'] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/not a full folder path/),
    });
    expect(svc.listSources()).toEqual([]);

    // updates: new folders are checked; pausing or resuming a source whose folder is gone still works
    const s = await svc.addSource({ name: 'Office', paths: [e.data] });
    await expect(svc.updateSource(s.id, { paths: [missing] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(svc.getSource(s.id).paths).toEqual([e.data]);
    renameSync(e.data, `${e.data}-away`);
    expect((await svc.updateSource(s.id, { enabled: false })).enabled).toBe(false);
    expect((await svc.updateSource(s.id, { enabled: true, name: 'Office files' })).name).toBe('Office files');
    expect(svc.listAlerts({ active: true }).map((a) => a.kind)).toEqual(['source-missing']);
  });
});
