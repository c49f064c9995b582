import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog } from '../../../src-main/engine/catalog/catalog.ts';
import { FakeClock } from '../../../src-main/engine/clock.ts';
import { verifyRepository } from '../../../src-main/engine/ops/verify.ts';
import { Repository } from '../../../src-main/engine/repo/repository.ts';
import type { Alert } from '../../../src-main/engine/service/alerts.ts';
import type { JobInfo, JobProgress } from '../../../src-main/engine/service/jobs.ts';
import {
  createBackupService,
  type BackupService,
  type BackupServiceOptions,
} from '../../../src-main/engine/service/service.ts';
import type { WatchFactory } from '../../../src-main/engine/service/watcher.ts';
import { otherDisk } from './helpers/disk.ts';
import { FsStore } from '../../../src-main/engine/storage/fs.ts';
import { PASSWORD, TEST_KDF } from '../helpers/repo.ts';
import { tempDir, until } from './helpers/util.ts';

const CHILD = fileURLToPath(new URL('./helpers/service-child.ts', import.meta.url));
const MINUTE = 60_000;

interface RunStats {
  reason: string;
  changes: number;
  snapshot?: { files: number; filesNew: number; filesChanged: number; filesUnchanged: number };
}

describe('backup service', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });

  function env() {
    const t = tempDir('service');
    cleanups.push(() => t.cleanup());
    const home = join(t.dir, 'home');
    const data = join(t.dir, 'data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'a.txt'), 'alpha');
    writeFileSync(join(data, 'b.txt'), 'beta');
    return { dir: t.dir, home, data, repoDir: join(t.dir, 'repo') };
  }

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

  async function run(svc: BackupService, sourceId: string): Promise<JobInfo> {
    return svc.waitForJob(svc.runNow(sourceId).id);
  }

  it('without a target, a default repository is created in the data dir with a 0600 key file', async () => {
    const e = env();
    const svc = service(e.home);
    const s = await svc.addSource({ name: 'Data', paths: [e.data] });
    const [t] = svc.listTargets();
    expect(t).toMatchObject({ id: 'default', isDefault: true, location: join(e.home, 'data', 'repository') });
    expect(s.targetId).toBe('default');
    const keyFile = join(e.home, 'config', 'default-repository.password');
    expect(readFileSync(keyFile, 'utf8')).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect((await svc.ensureDefaultTarget()).id).toBe('default'); // idempotent

    const job = await run(svc, s.id);
    expect(job.state).toBe('SUCCEEDED');
    const st = svc.getSource(s.id);
    // backed up within the limit, yet not "protected": the service was never started and the only copy is
    // on the same disk as the folder (DESIGN §8: never greener than the truth)
    expect(st).toMatchObject({ protected: false, rpoState: 'ok', lastSnapshotId: job.snapshotId });
    expect(st.protection.reasons.map((r) => r.code)).toEqual(['service-stopped', 'same-disk']);
    expect(st.lastRun?.state).toBe('succeeded');
    expect(st.nextRunAt).toBe((job.startedAt ?? 0) + 60 * MINUTE);
    // the repository opens with the key file's password, like the CLI's default repository
    const repo = await Repository.open(
      new FsStore({ root: t!.location }),
      readFileSync(keyFile, 'utf8').trim(),
      Catalog.open(':memory:'),
    );
    expect((await repo.syncSnapshots()).map((x) => x.id)).toEqual([job.snapshotId]);
    repo.catalog.close();
  });

  it('watcher: 1 000 files written at once become exactly one backup run containing them', async () => {
    const e = env();
    const svc = service(e.home);
    const target = await svc.addTarget({ location: e.repoDir }, { initialize: true });
    const s = await svc.addSource({ name: 'Data', paths: [e.data], targetId: target.id, quietSeconds: 0.5 });
    const states: JobInfo[] = [];
    const progress: JobProgress[] = [];
    svc.on('job.state', (ev) => states.push(ev.job));
    svc.on('job.progress', (p) => progress.push(p));
    await svc.start();
    await svc.whenWatching();
    expect(svc.watchStatus(s.id)?.mode).toBe('native');
    // the first start backs up a source never backed up
    await until(() => svc.history({ sourceId: s.id }).length === 1, 'the initial run');
    await svc.whenIdle();
    expect(svc.history({ sourceId: s.id })[0]?.state).toBe('succeeded');

    mkdirSync(join(e.data, 'burst'));
    for (let i = 0; i < 1000; i++) writeFileSync(join(e.data, 'burst', `f${i}.txt`), `file ${i}`);
    const written = Date.now();
    await until(() => svc.history({ sourceId: s.id }).length === 2, 'the watch run', 15_000);
    const startedAfter = Date.now() - written;
    expect(startedAfter).toBeLessThan(500 + 4000);
    await svc.whenIdle();
    await new Promise((r) => setTimeout(r, 2500)); // quiet period + slack: nothing else may follow
    const runs = svc.history({ sourceId: s.id });
    expect(runs.map((r) => r.state)).toEqual(['succeeded', 'succeeded']);
    const stats = runs[0]!.stats as RunStats;
    expect(stats.reason).toBe('watch');
    expect(stats.changes).toBeGreaterThanOrEqual(1000);
    expect(stats.snapshot?.filesNew).toBe(1000);
    expect(stats.snapshot?.files).toBe(1002);
    const watchJob = states.find((j) => j.reason === 'watch' && j.state === 'SUCCEEDED');
    expect(watchJob?.requests).toBe(1);
    expect(progress.some((p) => p.jobId === watchJob?.id)).toBe(true);
  });

  it('a rescan catches a change the watcher missed; the scheduled rescan runs regardless of events', async () => {
    const e = env();
    const clock = new FakeClock(Date.now());
    // a watcher that never reports anything: every event is "missed"
    const deaf: WatchFactory = (_p, _o, cb) => {
      queueMicrotask(() => cb.onReady());
      return { close: async () => undefined };
    };
    const svc = service(e.home, { clock, watch: { factory: deaf }, tickMs: 3_600_000 });
    const target = await svc.addTarget({ location: e.repoDir }, { initialize: true });
    const s = await svc.addSource({ name: 'Data', paths: [e.data], targetId: target.id, quietSeconds: 0.2 });
    await svc.start();
    await until(() => svc.history({ sourceId: s.id }).length === 1, 'the initial run');
    await svc.whenIdle();

    writeFileSync(join(e.data, 'a.txt'), 'alpha, changed behind the watcher’s back');
    await new Promise((r) => setTimeout(r, 600));
    expect(svc.history({ sourceId: s.id })).toHaveLength(1); // the watcher saw nothing

    const job = await svc.waitForJob(svc.rescan(s.id).id);
    expect(job.state).toBe('SUCCEEDED');
    const stats = svc.history({ sourceId: s.id })[0]!.stats as RunStats;
    expect(stats.reason).toBe('rescan');
    expect(stats.snapshot).toMatchObject({ filesChanged: 1, filesUnchanged: 1 });

    // no events at all, yet after the rescan interval the scheduler starts one
    clock.advance(59 * MINUTE);
    svc.tick();
    expect(svc.listJobs().filter((j) => j.state === 'QUEUED' || j.state === 'RUNNING')).toHaveLength(0);
    clock.advance(2 * MINUTE);
    svc.tick();
    const scheduled = svc.listJobs().find((j) => j.state === 'RUNNING' || j.state === 'QUEUED');
    expect(scheduled?.reason).toBe('rescan');
    await svc.whenIdle();
    expect(svc.history({ sourceId: s.id })).toHaveLength(3);
  });

  it('RPO: a source unprotected for longer than its RPO raises rpo-missed (fake clock); a good run clears it', async () => {
    const e = env();
    const clock = new FakeClock(Date.now());
    const svc = service(e.home, { clock, disk: otherDisk(e.repoDir) });
    const target = await svc.addTarget({ location: e.repoDir }, { initialize: true });
    const s = await svc.addSource({
      name: 'Data',
      paths: [e.data],
      targetId: target.id,
      rpoMinutes: 60,
      rescanMinutes: 24 * 60,
    });
    const raised: Alert[] = [];
    const cleared: Alert[] = [];
    svc.on('alert.raised', (a) => raised.push(a));
    svc.on('alert.cleared', (a) => cleared.push(a));

    svc.tick();
    expect(svc.getSource(s.id).rpoState).toBe('pending');
    clock.advance(61 * MINUTE);
    svc.tick();
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ kind: 'rpo-missed', sourceId: s.id, severity: 'warning' });
    expect(raised[0]!.text).toMatch(/has not been backed up yet, 61 minutes after it was added/);
    expect(raised[0]!.text).not.toMatch(/RPO|recovery point/i);
    expect(svc.getSource(s.id)).toMatchObject({ rpoState: 'missed', protected: false });
    expect(svc.getSource(s.id).protection).toMatchObject({ state: 'not-protected' });
    svc.tick(); // still missed: the same alert, not a new one
    expect(raised).toHaveLength(1);
    expect(svc.listAlerts({ active: true })[0]?.count).toBe(2);

    expect((await run(svc, s.id)).state).toBe('SUCCEEDED');
    expect(cleared.map((a) => a.id)).toEqual([raised[0]!.id]);
    // only "not started" keeps it from protected here (the target is on "another disk")
    expect(svc.getSource(s.id)).toMatchObject({ rpoState: 'ok', protected: false });
    expect(svc.getSource(s.id).protection.reasons.map((r) => r.code)).toEqual(['service-stopped']);

    clock.advance(59 * MINUTE);
    svc.tick();
    expect(raised).toHaveLength(1);
    clock.advance(2 * MINUTE);
    svc.tick();
    expect(raised).toHaveLength(2);
    expect(raised[1]!.text).toMatch(/last backed up 61 minutes ago/);
    // acknowledged alerts stay open (and in the history)
    const acked = svc.acknowledgeAlert(raised[1]!.id);
    expect(acked.acknowledgedAt).not.toBeNull();
    expect(svc.listAlerts({ active: true }).map((a) => a.id)).toEqual([raised[1]!.id]);
    expect(svc.listAlerts().map((a) => a.id)).toEqual([raised[1]!.id, raised[0]!.id]);
  });

  it('target-unreachable when the repository folder is gone or replaced by a file; cleared when it is back', async () => {
    const e = env();
    const svc = service(e.home);
    const target = await svc.addTarget({ location: e.repoDir }, { initialize: true });
    const s = await svc.addSource({ name: 'Data', paths: [e.data], targetId: target.id });
    const raised: Alert[] = [];
    const cleared: Alert[] = [];
    svc.on('alert.raised', (a) => raised.push(a));
    svc.on('alert.cleared', (a) => cleared.push(a));
    expect((await run(svc, s.id)).state).toBe('SUCCEEDED');

    // 1. the folder is gone (drive unplugged): the run fails and nothing recreates it
    renameSync(e.repoDir, `${e.repoDir}.away`);
    const f1 = await run(svc, s.id);
    expect(f1.state).toBe('FAILED');
    expect(f1.error?.code).toBe('REPO_NOT_FOUND');
    expect(existsSync(e.repoDir)).toBe(false);
    expect(raised.map((a) => [a.kind, a.targetId, a.sourceId])).toEqual([
      ['target-unreachable', target.id, null],
    ]);
    expect(raised[0]!.text).toContain(e.repoDir);

    // 2. replaced by a file: still unreachable (the same alert, seen again), the file untouched
    writeFileSync(e.repoDir, 'not a repository');
    const f2 = await run(svc, s.id);
    expect(f2.state).toBe('FAILED');
    expect(readFileSync(e.repoDir, 'utf8')).toBe('not a repository');
    expect(raised).toHaveLength(1);
    expect(svc.listAlerts({ active: true })).toMatchObject([{ kind: 'target-unreachable', count: 2 }]);
    expect(svc.listAlerts({ active: true }).some((a) => a.kind === 'backup-failed')).toBe(false);

    // 3. back: the next run succeeds and clears the alert
    rmSync(e.repoDir);
    renameSync(`${e.repoDir}.away`, e.repoDir);
    expect((await run(svc, s.id)).state).toBe('SUCCEEDED');
    expect(cleared.map((a) => a.id)).toEqual([raised[0]!.id]);
    expect(svc.listAlerts({ active: true })).toEqual([]);

    // the source's folder gone is its own alert on the source (not backup-failed), cleared the same way
    renameSync(e.data, `${e.data}.away`);
    const f3 = await run(svc, s.id);
    expect(f3.error?.code).toBe('NOT_FOUND');
    expect(svc.listAlerts({ active: true })).toMatchObject([{ kind: 'source-missing', sourceId: s.id }]);
    renameSync(`${e.data}.away`, e.data);
    expect((await run(svc, s.id)).state).toBe('SUCCEEDED');
    expect(svc.listAlerts({ active: true })).toEqual([]);
  });

  it('graceful stop during a running backup: canceled, recorded interrupted; the next run completes', async () => {
    const e = env();
    writeFileSync(join(e.data, 'big.bin'), randomBytes(3 * 1024 * 1024));
    const svc = service(e.home);
    // 256 KiB/s: the 3 MiB upload takes ~12 s
    const target = await svc.addTarget(
      { location: e.repoDir, bytesPerSecond: 256 * 1024 },
      { initialize: true },
    );
    const s = await svc.addSource({ name: 'Data', paths: [e.data], targetId: target.id });
    const progress: JobProgress[] = [];
    svc.on('job.progress', (p) => progress.push(p));
    const job = svc.runNow(s.id);
    await until(() => progress.some((p) => p.filesDone >= 3), 'the files to be read');
    const t0 = Date.now();
    await svc.stop();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(svc.getJob(job.id)).toMatchObject({ state: 'CANCELED', cancelReason: 'shutdown' });
    const cat = Catalog.open(join(e.home, 'data', 'service.db'));
    expect(cat.runs().map((r) => [r.source, r.state])).toEqual([[s.id, 'interrupted']]);
    cat.close();

    const svc2 = service(e.home);
    expect(svc2.getSource(s.id).lastRun?.state).toBe('interrupted');
    svc2.updateTarget(target.id, { bytesPerSecond: null });
    const done = await run(svc2, s.id);
    expect(done.state).toBe('SUCCEEDED');
    const repo = await Repository.open(new FsStore({ root: e.repoDir }), PASSWORD, Catalog.open(':memory:'));
    const report = await verifyRepository(repo, { readData: true });
    expect(report.ok).toBe(true);
    expect(report.snapshots).toBe(1);
    repo.catalog.close();
  });

  it('after a crash (kill -9 mid-backup) the run shows as interrupted and the next run completes', async () => {
    const e = env();
    writeFileSync(join(e.data, 'big.bin'), randomBytes(2 * 1024 * 1024));
    const setup = service(e.home);
    const target = await setup.addTarget(
      { location: e.repoDir, bytesPerSecond: 128 * 1024 },
      { initialize: true },
    );
    const s = await setup.addSource({ name: 'Data', paths: [e.data], targetId: target.id });
    await setup.stop();

    const child = spawn(process.execPath, [CHILD, e.home, s.id, PASSWORD], { stdio: 'pipe' });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
    try {
      await until(() => /PROGRESS/.test(out), `the child's backup to run (${err})`, 30_000);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    expect(out).toMatch(/^RUNNING \d+$/m);
    expect(out).not.toMatch(/SUCCEEDED|FAILED|CANCELED/);

    const svc = service(e.home);
    const [last] = svc.history({ sourceId: s.id });
    expect(last).toMatchObject({ state: 'interrupted', finishedAt: null });
    const st = svc.getSource(s.id);
    expect(st.lastRun?.state).toBe('interrupted');
    expect(st.nextRunAt).toBe(last!.startedAt + MINUTE); // retried soon, not at the next hourly rescan
    svc.updateTarget(target.id, { bytesPerSecond: null });
    expect((await run(svc, s.id)).state).toBe('SUCCEEDED');
    expect(svc.history({ sourceId: s.id }).map((r) => r.state)).toEqual(['succeeded', 'interrupted']);
  });
});
