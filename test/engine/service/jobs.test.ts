import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackupProgress } from '../../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../../src-main/engine/catalog/catalog.ts';
import { FakeClock, systemClock } from '../../../src-main/engine/clock.ts';
import { BulwarkError, isBulwarkError } from '../../../src-main/engine/errors.ts';
import {
  assertTransition,
  canTransition,
  JOB_TRANSITIONS,
  JobManager,
  type JobInfo,
  type JobProgress,
  type JobRunner,
  type JobState,
} from '../../../src-main/engine/service/jobs.ts';
import { Throttle } from '../../../src-main/engine/service/progress.ts';
import { deferred, ManualTimers, tempDir, until, type Deferred } from './helpers/util.ts';

const STATES: JobState[] = ['QUEUED', 'RUNNING', 'CANCELING', 'CANCELED', 'SUCCEEDED', 'FAILED'];

/** A runner whose jobs finish when the test says so; it honours the abort signal like the engine. */
function controlledRunner(): {
  runner: JobRunner;
  started: string[];
  gates: Map<string, Deferred<{ snapshotId?: string }>>;
  progress: Map<string, (p: BackupProgress) => void>;
} {
  const started: string[] = [];
  const gates = new Map<string, Deferred<{ snapshotId?: string }>>();
  const progress = new Map<string, (p: BackupProgress) => void>();
  const runner: JobRunner = (job, ctx) => {
    started.push(job.sourceId);
    const d = deferred<{ snapshotId?: string }>();
    gates.set(job.sourceId, d);
    progress.set(job.sourceId, ctx.onProgress);
    ctx.signal.addEventListener('abort', () => d.reject(new BulwarkError('CANCELED', 'canceled')), {
      once: true,
    });
    return d.promise;
  };
  return { runner, started, gates, progress };
}

describe('job state machine', () => {
  it('allows exactly the transitions of the table and throws on every other one', () => {
    const legal = new Set(Object.entries(JOB_TRANSITIONS).flatMap(([f, tos]) => tos.map((t) => `${f}>${t}`)));
    expect(legal).toEqual(
      new Set([
        'QUEUED>RUNNING',
        'QUEUED>CANCELED',
        'RUNNING>SUCCEEDED',
        'RUNNING>FAILED',
        'RUNNING>CANCELING',
        'CANCELING>CANCELED',
        'CANCELING>SUCCEEDED',
        'CANCELING>FAILED',
      ]),
    );
    for (const from of STATES) {
      for (const to of STATES) {
        const ok = legal.has(`${from}>${to}`);
        expect(canTransition(from, to)).toBe(ok);
        if (ok) expect(() => assertTransition(from, to)).not.toThrow();
        else {
          let err: unknown;
          try {
            assertTransition(from, to);
          } catch (e) {
            err = e;
          }
          expect(isBulwarkError(err, 'INTERNAL'), `${from} → ${to}`).toBe(true);
        }
      }
    }
    // final states are final
    for (const s of ['CANCELED', 'SUCCEEDED', 'FAILED'] as const) expect(JOB_TRANSITIONS[s]).toEqual([]);
  });
});

describe('JobManager', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    while (cleanups.length) cleanups.pop()?.();
  });

  function setup(opts: { concurrency?: number; clock?: FakeClock; timers?: ManualTimers } = {}) {
    const t = tempDir('jobs');
    const catalogPath = join(t.dir, 'service.db');
    const catalog = Catalog.open(catalogPath, opts.clock ? { clock: opts.clock } : {});
    cleanups.push(() => {
      catalog.close();
      t.cleanup();
    });
    const r = controlledRunner();
    const jm = new JobManager({
      catalog,
      clock: opts.clock ?? systemClock,
      runner: r.runner,
      concurrency: opts.concurrency ?? 1,
      ...(opts.timers ? { timers: opts.timers } : {}),
    });
    const states: { id: string; source: string; state: JobState }[] = [];
    jm.on('job.state', (e) => states.push({ id: e.job.id, source: e.job.sourceId, state: e.job.state }));
    return { jm, catalog, catalogPath, states, ...r };
  }

  it('runs jobs FIFO across sources, one at a time by default', async () => {
    const { jm, started, gates } = setup();
    const a = jm.enqueue({ sourceId: 'a' });
    const b = jm.enqueue({ sourceId: 'b' });
    const c = jm.enqueue({ sourceId: 'c' });
    expect(started).toEqual(['a']);
    expect(jm.list().map((j) => [j.sourceId, j.state])).toEqual([
      ['a', 'RUNNING'],
      ['b', 'QUEUED'],
      ['c', 'QUEUED'],
    ]);
    gates.get('a')?.resolve({ snapshotId: 's1' });
    await jm.waitFor(a.id);
    expect(started).toEqual(['a', 'b']);
    gates.get('b')?.resolve({});
    await jm.waitFor(b.id);
    gates.get('c')?.resolve({});
    await jm.waitFor(c.id);
    expect(started).toEqual(['a', 'b', 'c']);
    expect(jm.get(a.id)?.state).toBe('SUCCEEDED');
    expect(jm.get(a.id)?.snapshotId).toBe('s1');
  });

  it('never runs two jobs of one source at once; requests for a queued source merge into one job', async () => {
    const { jm, started, gates } = setup({ concurrency: 3 });
    const a1 = jm.enqueue({ sourceId: 'a', reason: 'watch', changes: 10 });
    const a2 = jm.enqueue({ sourceId: 'a', reason: 'watch', changes: 5 });
    const a3 = jm.enqueue({ sourceId: 'a', reason: 'watch', changes: 7 });
    const b = jm.enqueue({ sourceId: 'b' });
    expect(a2.id).not.toBe(a1.id); // a1 runs, a2 waits behind it
    expect(a3.id).toBe(a2.id); // merged into the queued one
    expect(jm.get(a2.id)?.changes).toBe(12);
    expect(jm.get(a2.id)?.requests).toBe(2);
    expect(started).toEqual(['a', 'b']); // b is not held up by a's second job
    gates.get('a')?.resolve({});
    await jm.waitFor(a1.id);
    await until(() => started.length === 3, 'second job of a');
    expect(started).toEqual(['a', 'b', 'a']);
    gates.get('a')?.resolve({});
    gates.get('b')?.resolve({});
    await jm.waitFor(a2.id);
    await jm.waitFor(b.id);
  });

  it('jobs on the same target wait for each other even with free slots', async () => {
    const { jm, started, gates } = setup({ concurrency: 2 });
    const a = jm.enqueue({ sourceId: 'a', targetId: 't1' });
    jm.enqueue({ sourceId: 'b', targetId: 't1' });
    jm.enqueue({ sourceId: 'c', targetId: 't2' });
    expect(started).toEqual(['a', 'c']);
    gates.get('a')?.resolve({});
    await jm.waitFor(a.id);
    expect(started).toEqual(['a', 'c', 'b']);
    gates.get('b')?.resolve({});
    gates.get('c')?.resolve({});
    await jm.whenIdle();
  });

  it('cancel: a queued job ends CANCELED at once, a running one goes CANCELING then CANCELED', async () => {
    const { jm, states, catalog } = setup();
    const a = jm.enqueue({ sourceId: 'a' });
    const b = jm.enqueue({ sourceId: 'b' });
    expect(jm.cancel(b.id).state).toBe('CANCELED');
    expect(jm.cancel(a.id).state).toBe('CANCELING');
    const done = await jm.waitFor(a.id);
    expect(done.state).toBe('CANCELED');
    expect(done.cancelReason).toBe('user');
    expect(states.filter((s) => s.id === a.id).map((s) => s.state)).toEqual([
      'QUEUED',
      'RUNNING',
      'CANCELING',
      'CANCELED',
    ]);
    expect(states.filter((s) => s.id === b.id).map((s) => s.state)).toEqual(['QUEUED', 'CANCELED']);
    // cancelling a finished job changes nothing
    expect(jm.cancel(a.id).state).toBe('CANCELED');
    // only the job that ran is in the runs table
    const runs = catalog.runs();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ source: 'a', state: 'canceled' });
  });

  it('records every run in the catalog: succeeded, failed with its error', async () => {
    const { jm, gates, catalog } = setup();
    const a = jm.enqueue({ sourceId: 'a' });
    expect(jm.get(a.id)?.runId).toBeTypeOf('number');
    expect(catalog.runs()[0]).toMatchObject({ source: 'a', state: 'running', kind: 'backup' });
    gates.get('a')?.resolve({ snapshotId: 'snap1' });
    await jm.waitFor(a.id);
    const b = jm.enqueue({ sourceId: 'b' });
    gates.get('b')?.reject(new BulwarkError('NO_SPACE', 'disk full', { hint: 'free space' }));
    const fb = await jm.waitFor(b.id);
    expect(fb.state).toBe('FAILED');
    expect(fb.error).toEqual({ code: 'NO_SPACE', message: 'disk full', hint: 'free space' });
    const [rb, ra] = catalog.runs();
    expect(ra).toMatchObject({ source: 'a', state: 'succeeded', snapshotId: 'snap1' });
    expect(rb).toMatchObject({ source: 'b', state: 'failed', error: 'NO_SPACE: disk full' });
    expect(jm.history({ sourceId: 'a' }).map((h) => h.state)).toEqual(['succeeded']);
  });

  it('a run a crash left running is interrupted when the catalog is opened again', async () => {
    const { jm, catalog, catalogPath } = setup();
    const a = jm.enqueue({ sourceId: 'a' });
    const runId = jm.get(a.id)?.runId;
    // the process "dies": nothing finishes the run
    catalog.close();
    const again = Catalog.open(catalogPath);
    cleanups.push(() => again.close());
    const jm2 = new JobManager({ catalog: again, clock: systemClock, runner: controlledRunner().runner });
    expect(jm2.history()).toMatchObject([{ runId, sourceId: 'a', state: 'interrupted' }]);
  });

  it('pauseAll interrupts the running job and queues it again; resumeAll continues', async () => {
    const { jm, started, gates, catalog } = setup();
    const a = jm.enqueue({ sourceId: 'a' });
    jm.enqueue({ sourceId: 'b' });
    jm.pauseAll();
    expect(jm.paused).toBe(true);
    expect((await jm.waitFor(a.id)).cancelReason).toBe('pause');
    await jm.whenIdle(); // paused: nothing more starts
    expect(started).toEqual(['a']);
    const queued = jm.list().filter((j) => j.state === 'QUEUED');
    expect(queued.map((j) => [j.sourceId, j.reason])).toEqual([
      ['a', 'resume'],
      ['b', 'manual'],
    ]);
    jm.resumeAll();
    expect(started).toEqual(['a', 'a']);
    gates.get('a')?.resolve({});
    await until(() => started.length === 3, 'b to start');
    gates.get('b')?.resolve({});
    await jm.whenIdle();
    expect(catalog.runs().map((r) => r.state)).toEqual(['succeeded', 'succeeded', 'canceled']);
    // pause without interrupting: the running job finishes, nothing new starts
    const c = jm.enqueue({ sourceId: 'c' });
    jm.pauseAll({ interruptRunning: false });
    jm.enqueue({ sourceId: 'd' });
    gates.get('c')?.resolve({});
    expect((await jm.waitFor(c.id)).state).toBe('SUCCEEDED');
    expect(started).not.toContain('d');
  });

  it('shutdown cancels queued jobs and records the running one as interrupted', async () => {
    const { jm, catalog } = setup();
    const a = jm.enqueue({ sourceId: 'a' });
    const b = jm.enqueue({ sourceId: 'b' });
    await jm.shutdown();
    expect(jm.get(a.id)).toMatchObject({ state: 'CANCELED', cancelReason: 'shutdown' });
    expect(jm.get(b.id)).toMatchObject({ state: 'CANCELED', cancelReason: 'shutdown' });
    expect(catalog.runs().map((r) => [r.source, r.state])).toEqual([['a', 'interrupted']]);
    expect(() => jm.enqueue({ sourceId: 'c' })).toThrow(/stopping/);
  });

  it('throttles progress to ~4 events a second (fake clock), keeping the latest values', async () => {
    const clock = new FakeClock();
    const timers = new ManualTimers(clock);
    const { jm, progress, gates } = setup({ clock, timers });
    const events: JobProgress[] = [];
    const emittedAt: number[] = [];
    jm.on('job.progress', (p) => {
      events.push(p);
      emittedAt.push(clock.now().getTime());
    });
    const a = jm.enqueue({ sourceId: 'a' });
    const report = progress.get('a');
    // 2 000 engine reports over 2 s (one per ms), 1 000 bytes each
    for (let i = 1; i <= 2000; i++) {
      report?.({
        phase: 'uploading',
        scanDone: true,
        filesDone: i,
        filesTotal: 4000,
        bytesDone: i * 1000,
        bytesTotal: 4_000_000,
        bytesAdded: 0,
        currentPath: `/data/f${i}`,
      });
      timers.advance(1);
    }
    expect(events.length).toBeGreaterThanOrEqual(8);
    expect(events.length).toBeLessThanOrEqual(10);
    for (let i = 1; i < emittedAt.length; i++)
      expect(emittedAt[i]! - emittedAt[i - 1]!).toBeGreaterThanOrEqual(250);
    const last = events.at(-1)!;
    expect(last.rate).toBeGreaterThan(900_000); // 1 000 bytes per ms
    expect(last.rate).toBeLessThan(1_100_000);
    expect(last.etaSeconds).toBeGreaterThan(1.5);
    expect(last.etaSeconds).toBeLessThan(2.5);
    expect(last.currentPath).toMatch(/^\/data\/f\d+$/);
    expect(jm.get(a.id)?.progress?.filesDone).toBe(last.filesDone);
    // the final value is delivered before the final state
    const order: string[] = [];
    jm.on('job.progress', () => order.push('progress'));
    jm.on('job.state', (e) => order.push(e.job.state));
    report?.({
      phase: 'committing',
      scanDone: true,
      filesDone: 4000,
      filesTotal: 4000,
      bytesDone: 4e6,
      bytesTotal: 4e6,
      bytesAdded: 1,
    });
    gates.get('a')?.resolve({});
    await jm.waitFor(a.id);
    expect(order).toEqual(['progress', 'SUCCEEDED']);
    expect(events.at(-1)?.filesDone).toBe(4000);
  });

  it('throttles progress with real timers and the system clock too', async () => {
    const { jm, progress, gates } = setup();
    const events: number[] = [];
    jm.on('job.progress', () => events.push(Date.now()));
    const a = jm.enqueue({ sourceId: 'a' });
    const report = progress.get('a')!;
    const start = Date.now();
    let i = 0;
    while (Date.now() - start < 1500) {
      report({
        phase: 'uploading',
        scanDone: false,
        filesDone: ++i,
        filesTotal: i,
        bytesDone: i,
        bytesTotal: i,
        bytesAdded: 0,
      });
      await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(i).toBeGreaterThan(100);
    // ~4/s: never two events closer than the interval (Date.now() may round down by a millisecond)
    expect(events.length).toBeGreaterThanOrEqual(5);
    expect(events.length).toBeLessThanOrEqual(9);
    for (let k = 1; k < events.length; k++) expect(events[k]! - events[k - 1]!).toBeGreaterThanOrEqual(240);
    gates.get('a')?.resolve({});
    await jm.waitFor(a.id);
  });

  it('a listener that throws does not break the state machine', async () => {
    const { jm, gates } = setup();
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      jm.on('job.state', () => {
        throw new Error('boom');
      });
      const a = jm.enqueue({ sourceId: 'a' });
      gates.get('a')?.resolve({});
      const done: JobInfo = await jm.waitFor(a.id);
      expect(done.state).toBe('SUCCEEDED');
      await new Promise((r) => setImmediate(r));
      expect(warnings.some((w) => w.includes('boom'))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('Throttle', () => {
  it('emits the leading value, then at most one per interval, and the last one after a pause', () => {
    const clock = new FakeClock();
    const timers = new ManualTimers(clock);
    const out: number[] = [];
    const t = new Throttle<number>((v) => out.push(v), 250, clock, timers);
    t.push(1);
    t.push(2);
    t.push(3);
    expect(out).toEqual([1]);
    timers.advance(249);
    expect(out).toEqual([1]);
    timers.advance(1);
    expect(out).toEqual([1, 3]);
    timers.advance(10_000);
    expect(out).toEqual([1, 3]);
    t.push(4);
    expect(out).toEqual([1, 3, 4]);
    t.push(5);
    t.stop();
    timers.advance(1000);
    expect(out).toEqual([1, 3, 4]);
  });
});
