/**
 * Restores as jobs of the service: planned and kept under an id, carried out as a `restore` job that starts
 * at once (never behind queued backups, not held by a pause, never holding a backup up), with throttled
 * `restoring` progress, cancel, and a summary when done.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog } from '../../../src-main/engine/catalog/catalog.ts';
import { FakeClock } from '../../../src-main/engine/clock.ts';
import { isBulwarkError } from '../../../src-main/engine/errors.ts';
import {
  JobManager,
  type JobInfo,
  type JobProgress,
  type JobStateEvent,
} from '../../../src-main/engine/service/jobs.ts';
import { createBackupService, type BackupService } from '../../../src-main/engine/service/service.ts';
import { PASSWORD, TEST_KDF } from '../helpers/repo.ts';
import { deferred, tempDir, until } from './helpers/util.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe('restore jobs in the job manager', () => {
  it('start at once, beside backups of the same source and target, through a pause, and hold no backup up', async () => {
    const t = tempDir('restore-jm');
    cleanups.push(() => t.cleanup());
    const catalog = Catalog.open(join(t.dir, 'c.db'));
    cleanups.push(() => catalog.close());
    const backups = new Map<string, ReturnType<typeof deferred<void>>>();
    const jm = new JobManager({
      catalog,
      clock: new FakeClock(),
      concurrency: 1,
      runner: async (job) => {
        const d = deferred<void>();
        backups.set(job.sourceId, d);
        await d.promise;
        return {};
      },
    });
    const states: JobStateEvent[] = [];
    jm.on('job.state', (e) => states.push(e));

    // a backup of s1 runs, one of s2 waits for it (concurrency 1), then backups are paused
    const b1 = jm.enqueue({ sourceId: 's1', targetId: 't' });
    const b2 = jm.enqueue({ sourceId: 's2', targetId: 't' });
    expect(jm.get(b1.id)?.state).toBe('RUNNING');
    expect(jm.get(b2.id)?.state).toBe('QUEUED');
    jm.pauseAll({ interruptRunning: false });

    // a restore of s1 (same source, same target) starts now
    const restoring = deferred<void>();
    const r = jm.startNow({
      kind: 'restore',
      sourceId: 's1',
      targetId: 't',
      run: async (_job, ctx) => {
        ctx.onProgress({
          phase: 'restoring',
          filesDone: 1,
          filesTotal: 2,
          bytesDone: 10,
          bytesTotal: 20,
          rate: 5,
          etaSeconds: 2,
        });
        await restoring.promise;
        return {
          restore: {
            restored: 2,
            skipped: 1,
            failed: 0,
            bytes: 20,
            keptBoth: 0,
            failures: [],
            destination: '/x',
          },
        };
      },
    });
    expect(r).toMatchObject({ kind: 'restore', state: 'RUNNING' });
    expect(jm.get(b2.id)?.state).toBe('QUEUED'); // the pause still holds backups
    expect(jm.activeFor('s1').running?.id).toBe(b1.id); // a source's job is its backup

    // pausing with interruption stops the backup, not the restore
    jm.pauseAll();
    expect(jm.get(r.id)?.state).toBe('RUNNING');
    expect(jm.get(b1.id)?.state).toBe('CANCELING');
    backups.get('s1')!.resolve();
    // (this runner ignores its signal: it ends as it really ended)
    await until(() => jm.get(b1.id)?.state === 'SUCCEEDED', 'the interrupted backup');
    // resumed: the backup of s1 continues while its restore is still running
    jm.resumeAll();
    await until(() => {
      const running = jm.activeFor('s1').running;
      return running !== undefined && running.id !== b1.id;
    }, 'the resumed backup of s1');
    expect(jm.get(r.id)?.state).toBe('RUNNING');

    restoring.resolve();
    const done = await jm.waitFor(r.id);
    expect(done).toMatchObject({
      state: 'SUCCEEDED',
      restore: { restored: 2, skipped: 1, destination: '/x' },
    });
    expect(done.progress).toMatchObject({
      phase: 'restoring',
      bytesDone: 10,
      bytesTotal: 20,
      rate: 5,
      etaSeconds: 2,
    });
    // recorded as a restore run, not in the backup history
    const kinds = catalog.db
      .prepare<[], { kind: string }>('SELECT kind FROM runs ORDER BY id')
      .all()
      .map((x) => x.kind);
    expect(kinds).toContain('restore');
    expect(jm.history().every((h) => h.kind === 'backup')).toBe(true);
    for (const d of backups.values()) d.resolve();
    await jm.shutdown({ timeoutMs: 1000 });
  });
});

describe('restore jobs of the service', () => {
  function setup(): { svc: BackupService; data: string; clock: FakeClock; dir: string } {
    const t = tempDir('restore-svc');
    cleanups.push(() => t.cleanup());
    const data = join(t.dir, 'data');
    mkdirSync(join(data, 'sub'), { recursive: true });
    writeFileSync(join(data, 'a.txt'), 'alpha\n');
    writeFileSync(join(data, 'sub', 'b.txt'), 'bravo\n');
    writeFileSync(join(data, 'big.bin'), randomBytes(24 << 20));
    const clock = new FakeClock(Date.UTC(2026, 10, 28, 13, 0));
    const svc = createBackupService({
      home: join(t.dir, 'home'),
      passwordFor: () => PASSWORD,
      kdf: TEST_KDF,
      clock,
      backup: { readers: 2 },
      watch: { enabled: false },
      progressIntervalMs: 20,
    });
    cleanups.push(() => svc.stop());
    return { svc, data, clock, dir: t.dir };
  }

  it('plans, then restores as a job with restoring progress and a summary; a plan is used once and expires', async () => {
    const { svc, data, clock } = setup();
    const s = await svc.addSource({ name: 'Office', paths: [data] });
    const backup = await svc.waitForJob(svc.runNow(s.id).id);
    expect(backup.state).toBe('SUCCEEDED');
    const snapshotId = backup.snapshotId!;

    // since the backup: one file deleted, one changed
    const big = readFileSync(join(data, 'big.bin'));
    rmSync(join(data, 'big.bin'));
    writeFileSync(join(data, 'sub', 'b.txt'), 'changed\n');

    const { planId, plan } = await svc.planRestore({
      sourceId: s.id,
      snapshotId,
      paths: [''],
      destination: { kind: 'original' },
    });
    expect(plan.destination).toBe(data);
    expect(plan.totals).toMatchObject({ files: 3, create: 1, identical: 1, conflicts: 1 });

    const progress: JobProgress[] = [];
    const states: JobStateEvent[] = [];
    svc.on('job.progress', (p) => progress.push(p));
    svc.on('job.state', (e) => states.push(e));
    svc.pauseAll(); // backups paused: a restore still runs
    const job = svc.startRestore(planId, 'keep-both');
    expect(job).toMatchObject({ kind: 'restore', sourceId: s.id, state: 'RUNNING' });
    const done = await svc.waitForJob(job.id);
    expect(done.state).toBe('SUCCEEDED');
    expect(done.restore).toEqual({
      restored: 2,
      skipped: 1,
      failed: 0,
      bytes: big.length + 6,
      keptBoth: 1,
      failures: [],
      destination: data,
    });
    expect(readFileSync(join(data, 'big.bin')).equals(big)).toBe(true);
    expect(readFileSync(join(data, 'sub', 'b.txt'), 'utf8')).toBe('changed\n');
    expect(readdirSync(join(data, 'sub')).filter((n) => n.startsWith('b (restored '))).toHaveLength(1);
    expect(states.filter((e) => e.job.id === job.id).map((e) => e.job.state)).toEqual([
      'QUEUED',
      'RUNNING',
      'SUCCEEDED',
    ]);
    const mine = progress.filter((p) => p.jobId === job.id);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((p) => p.phase === 'restoring' && p.sourceId === s.id)).toBe(true);
    expect(mine.at(-1)).toMatchObject({
      bytesDone: big.length + 6,
      bytesTotal: big.length + 6,
      filesDone: 2,
      filesTotal: 2,
    });
    expect(svc.getSource(s.id).job).toBeNull(); // a source's job is its backup
    svc.resumeAll();

    // used once
    const again = (() => {
      try {
        svc.startRestore(planId, 'overwrite');
      } catch (e) {
        return e;
      }
    })();
    expect(isBulwarkError(again, 'NOT_FOUND')).toBe(true);

    // kept 15 minutes
    const late = await svc.planRestore({
      sourceId: s.id,
      snapshotId,
      paths: ['data/a.txt'],
      destination: { kind: 'original' },
    });
    clock.advance(16 * 60_000);
    const expired = (() => {
      try {
        svc.startRestore(late.planId, 'overwrite');
      } catch (e) {
        return e;
      }
    })();
    expect(isBulwarkError(expired, 'NOT_FOUND')).toBe(true);

    // a snapshot of another source, or none at all
    await expect(
      svc.planRestore({ sourceId: s.id, snapshotId: 'nope', paths: [''], destination: { kind: 'original' } }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a canceled restore job ends canceled and leaves nothing half-written under a real name', async () => {
    const { svc, data, dir } = setup();
    const s = await svc.addSource({ name: 'Office', paths: [data] });
    const backup = await svc.waitForJob(svc.runNow(s.id).id);
    // The target's reads are slowed to 8 MiB/s (its bandwidth limit): the 24 MiB file takes ~3 s, so the
    // cancel below lands in its middle. Unlimited, a loaded machine could finish it before the first
    // progress event with bytes was handled, and the job then rightly succeeded.
    svc.updateTarget(s.targetId, { bytesPerSecond: 8 << 20 });
    const out = join(dir, 'out');
    const { planId } = await svc.planRestore({
      sourceId: s.id,
      snapshotId: backup.snapshotId!,
      paths: ['data'],
      destination: { kind: 'folder', path: out },
    });
    // the job is known only once started; progress may come before startRestore returns
    const started: { job?: JobInfo } = {};
    let canceled = false;
    svc.on('job.progress', (p) => {
      // in the middle of the big file
      if (started.job && p.jobId === started.job.id && p.bytesDone > 0 && !canceled) {
        canceled = true;
        svc.cancel(started.job.id);
      }
    });
    const job = svc.startRestore(planId, 'overwrite');
    started.job = job;
    const done = await svc.waitForJob(job.id);
    expect(done.state).toBe('CANCELED');
    expect(done.restore).toBeNull();
    const names = existsSync(out) ? (readdirSync(out, { recursive: true }) as string[]) : [];
    expect(names.filter((n) => n.includes('.bulwark-'))).toEqual([]);
    if (names.includes(join('data', 'big.bin')))
      expect(readFileSync(join(out, 'data', 'big.bin')).equals(readFileSync(join(data, 'big.bin')))).toBe(
        true,
      );
  });
});
