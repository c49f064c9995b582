import { randomUUID } from 'node:crypto';
import type { BackupProgress } from '../backup/backup.ts';
import type { Catalog, RunState } from '../catalog/catalog.ts';
import type { Clock } from '../clock.ts';
import { BulwarkError, isBulwarkError, type ErrorCode } from '../errors.ts';
import { TypedEvents } from './events.ts';
import { RateMeter, Throttle } from './progress.ts';
import { realTimers, type Timers } from './timers.ts';

// ---- the state machine ---------------------------------------------------------------------------------

export type JobState = 'QUEUED' | 'RUNNING' | 'CANCELING' | 'CANCELED' | 'SUCCEEDED' | 'FAILED';

/**
 * Every legal transition. A run that finishes while its cancel is on the way ends as it really ended
 * (CANCELING → SUCCEEDED/FAILED): the snapshot it committed exists. Final states have no way out.
 */
export const JOB_TRANSITIONS: { readonly [S in JobState]: readonly JobState[] } = {
  QUEUED: ['RUNNING', 'CANCELED'],
  RUNNING: ['SUCCEEDED', 'FAILED', 'CANCELING'],
  CANCELING: ['CANCELED', 'SUCCEEDED', 'FAILED'],
  CANCELED: [],
  SUCCEEDED: [],
  FAILED: [],
};

export const isTerminal = (s: JobState): boolean => JOB_TRANSITIONS[s].length === 0;

export function canTransition(from: JobState, to: JobState): boolean {
  return JOB_TRANSITIONS[from].includes(to);
}

/** Throws (INTERNAL: a bug, never a user error) unless `from → to` is in the table. */
export function assertTransition(from: JobState, to: JobState): void {
  if (!canTransition(from, to))
    throw new BulwarkError('INTERNAL', `illegal job state transition ${from} → ${to}`);
}

// ---- types ---------------------------------------------------------------------------------------------

/** Why a job was asked for. */
export type JobReason = 'manual' | 'watch' | 'rescan' | 'retry' | 'resume';
/** Why a job was canceled: `shutdown` is recorded as `interrupted` in the runs table. */
export type CancelReason = 'user' | 'shutdown' | 'pause' | 'removed';

export interface JobError {
  code: ErrorCode;
  message: string;
  hint?: string;
}

/**
 * What kind of work a job does: backups queue; restores only read the repository and start at once; the
 * upkeep jobs (forget after a backup, the scheduled prune, the daily lock check: service/retention.ts)
 * queue like backups and never run beside another job on the same target (they share its repository).
 */
export type JobKind = 'backup' | 'restore' | MaintenanceKind;
/**
 * `drill`: a restore test (engine/drill), queued so its measured speed is not shared with a backup;
 * `copy`: a source's new snapshots replicated into one of its copy targets (3-2-1: service/copies.ts)
 */
export type MaintenanceKind = 'forget' | 'prune' | 'verify' | 'drill' | 'copy';

/** What a restore runner reports (rate and ETA come from the restore itself: ops/restore-eta.ts). */
export interface RestoreRunProgress {
  phase: 'restoring';
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  rate: number;
  etaSeconds?: number;
  currentPath?: string;
}

/** What a runner reports. */
export type RunnerProgress = BackupProgress | RestoreRunProgress;

/** What a finished restore did (the job's `restore`). */
export interface RestoreJobSummary {
  /** files written (kept-both copies included) */
  restored: number;
  /** identical files, and conflicts the policy left alone */
  skipped: number;
  /** entries not restored (each in `failures`, up to a limit) */
  failed: number;
  bytes: number;
  /** written beside an existing file (keep-both) */
  keptBoth: number;
  failures: { path: string; message: string }[];
  /** where the files went */
  destination: string;
}

/** A progress event, throttled (~4/s): what a UI shows. Times are ms since the epoch (injected clock). */
export interface JobProgress {
  jobId: string;
  sourceId: string;
  phase: RunnerProgress['phase'];
  scanDone: boolean;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  bytesAdded: number;
  /** bytes read per second over the last few seconds */
  rate: number;
  /** only once the scan is done and a rate is known */
  etaSeconds?: number;
  currentPath?: string;
  at: number;
}

export interface JobInfo {
  id: string;
  kind: JobKind;
  sourceId: string;
  /** jobs on the same target never run at the same time (they share a repository and its catalog) */
  targetId: string | null;
  reason: JobReason;
  /** changed paths reported by the watcher for this job (merged requests add up) */
  changes: number;
  /** requests merged into this job while it was queued */
  requests: number;
  state: JobState;
  queuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** row in the catalog's runs table, once running */
  runId: number | null;
  snapshotId: string | null;
  error: JobError | null;
  cancelReason: CancelReason | null;
  progress: JobProgress | null;
  /** a restore that finished: what it did */
  restore: RestoreJobSummary | null;
}

export interface JobStateEvent {
  job: JobInfo;
  previous: JobState | null;
  at: number;
}

export interface JobEvents {
  'job.state': JobStateEvent;
  'job.progress': JobProgress;
}

export interface JobRequest {
  sourceId: string;
  targetId?: string | null;
  reason?: JobReason;
  changes?: number;
}

export interface RunResult {
  snapshotId?: string;
  stats?: unknown;
  restore?: RestoreJobSummary;
}

/** Does the work of one job. Must stop soon after `signal` aborts (the engine's backup and restore do). */
export type JobRunner = (
  job: Readonly<JobInfo>,
  ctx: { signal: AbortSignal; onProgress: (p: RunnerProgress) => void },
) => Promise<RunResult>;

/** Queued upkeep of a source or target (forget, prune, lock check), with its own runner. */
export interface MaintenanceJobRequest {
  kind: MaintenanceKind;
  /** a source's id, or `target:<id>` for the upkeep of a whole target */
  sourceId: string;
  targetId: string;
  reason?: JobReason;
  run: JobRunner;
}

/** A job that starts at once (a restore), with its own runner. */
export interface ImmediateJobRequest {
  kind: 'restore';
  sourceId: string;
  targetId?: string | null;
  reason?: JobReason;
  run: JobRunner;
}

export interface JobManagerOptions {
  catalog: Catalog;
  clock: Clock;
  runner: JobRunner;
  /** jobs running at the same time, across sources (default 1) */
  concurrency?: number;
  /** minimum spacing of progress events per job (default 250 ms: ~4/s) */
  progressIntervalMs?: number;
  timers?: Timers;
  /** finished jobs kept in memory for `list()` (default 50; older ones are in `history()`) */
  keepFinished?: number;
}

/** A run as recorded in the catalog (this process or an earlier one). */
export interface RunHistoryEntry {
  runId: number;
  kind: string;
  sourceId: string | null;
  state: RunState;
  startedAt: number;
  finishedAt: number | null;
  snapshotId: string | null;
  error: string | null;
  stats: unknown;
}

interface Job extends JobInfo {
  /** its own runner (restores); backups use the manager's */
  runner: JobRunner | undefined;
  controller: AbortController | undefined;
  done: Promise<void>;
  resolveDone: () => void;
  throttle: Throttle<JobProgress> | undefined;
}

const RUN_STATE: Record<'SUCCEEDED' | 'FAILED' | 'CANCELED', Exclude<RunState, 'running'>> = {
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  CANCELED: 'canceled',
};

export function toJobError(e: unknown): JobError {
  if (isBulwarkError(e)) return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

/**
 * The job manager: a FIFO queue of backups across sources with a concurrency limit; one backup at a time
 * per source (and per target); requests for a source that already has a queued backup merge into it. Each
 * running job has its own AbortController. Runs are recorded in the catalog's runs table (a run left
 * `running` by a crash is marked `interrupted` when the catalog is opened: Catalog.open).
 *
 * Restores (`startNow`) only read the repository: they start at once, outside the queue, the concurrency
 * limit and the pause (restoring is what an office does while backups are paused after an incident), and
 * never make a backup wait, not even one of the same source or target. They are listed, canceled, recorded
 * and shut down like backups.
 */
export class JobManager {
  readonly events = new TypedEvents<JobEvents>();
  private readonly catalog: Catalog;
  private readonly clock: Clock;
  private readonly runner: JobRunner;
  private readonly progressIntervalMs: number;
  private readonly timers: Timers;
  private readonly keepFinished: number;
  private concurrencyLimit: number;
  private readonly queue: Job[] = [];
  private readonly running = new Map<string, Job>();
  private readonly finished: Job[] = [];
  private idleWaiters: (() => void)[] = [];
  private isPaused = false;
  private closing = false;

  constructor(opts: JobManagerOptions) {
    this.catalog = opts.catalog;
    this.clock = opts.clock;
    this.runner = opts.runner;
    this.concurrencyLimit = positive(opts.concurrency ?? 1, 'concurrency');
    this.progressIntervalMs = opts.progressIntervalMs ?? 250;
    this.timers = opts.timers ?? realTimers;
    this.keepFinished = opts.keepFinished ?? 50;
  }

  on<K extends keyof JobEvents>(event: K, listener: (p: JobEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  get concurrency(): number {
    return this.concurrencyLimit;
  }

  set concurrency(n: number) {
    this.concurrencyLimit = positive(n, 'concurrency');
    this.dispatch();
  }

  get paused(): boolean {
    return this.isPaused;
  }

  /**
   * Asks for a job. A source with a job already queued gets that job back (the request is merged: the
   * watcher's 1 000 changes become one run); a source whose job is running gets one queued behind it.
   */
  enqueue(req: JobRequest): JobInfo {
    if (this.closing) throw new BulwarkError('CANCELED', 'the backup service is stopping');
    const queued = this.queue.find((j) => j.sourceId === req.sourceId && j.kind === 'backup');
    if (queued) {
      queued.changes += req.changes ?? 0;
      queued.requests++;
      if (req.reason === 'manual') queued.reason = 'manual';
      return info(queued);
    }
    const job = this.newJob('backup', req.sourceId, req.targetId ?? null, req.reason ?? 'manual', undefined);
    job.changes = req.changes ?? 0;
    this.queue.push(job);
    this.emitState(job, null);
    this.dispatch();
    return info(job);
  }

  /**
   * Queues upkeep (forget, prune, a lock check) behind the backups: it waits for its target like a backup
   * does and is merged with the same upkeep already queued.
   */
  enqueueMaintenance(req: MaintenanceJobRequest): JobInfo {
    if (this.closing) throw new BulwarkError('CANCELED', 'the backup service is stopping');
    const queued = this.queue.find(
      (j) => j.kind === req.kind && j.sourceId === req.sourceId && j.targetId === req.targetId,
    );
    if (queued) {
      queued.requests++;
      return info(queued);
    }
    const job = this.newJob(req.kind, req.sourceId, req.targetId, req.reason ?? 'manual', req.run);
    this.queue.push(job);
    this.emitState(job, null);
    this.dispatch();
    return info(job);
  }

  /** Starts a job now, with its own runner, whatever is queued or running (see the class comment). */
  startNow(req: ImmediateJobRequest): JobInfo {
    if (req.kind !== 'restore')
      throw new BulwarkError(
        'INTERNAL',
        `a ${req.kind} job is queued (enqueueMaintenance), not started at once`,
      );
    if (this.closing) throw new BulwarkError('CANCELED', 'the backup service is stopping');
    const job = this.newJob(req.kind, req.sourceId, req.targetId ?? null, req.reason ?? 'manual', req.run);
    this.emitState(job, null);
    this.start(job);
    return info(job);
  }

  private newJob(
    kind: JobKind,
    sourceId: string,
    targetId: string | null,
    reason: JobReason,
    runner: JobRunner | undefined,
  ): Job {
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    return {
      id: randomUUID(),
      kind,
      sourceId,
      targetId,
      reason,
      changes: 0,
      requests: 1,
      state: 'QUEUED',
      queuedAt: this.now(),
      startedAt: null,
      finishedAt: null,
      runId: null,
      snapshotId: null,
      error: null,
      cancelReason: null,
      progress: null,
      restore: null,
      runner,
      controller: undefined,
      done,
      resolveDone,
      throttle: undefined,
    };
  }

  /**
   * Cancels a job: a queued one ends CANCELED at once; a running one goes CANCELING, its signal aborts and
   * it ends CANCELED when the engine has stopped (the repository stays valid; the next run resumes).
   * A finished job is returned unchanged.
   */
  cancel(id: string, reason: CancelReason = 'user'): JobInfo {
    const job = this.find(id);
    if (!job) throw new BulwarkError('NOT_FOUND', `no job ${id}`);
    if (job.state === 'QUEUED') {
      this.queue.splice(this.queue.indexOf(job), 1);
      job.cancelReason = reason;
      this.finish(job, 'CANCELED');
      this.checkIdle();
    } else if (job.state === 'RUNNING') {
      job.cancelReason = reason;
      this.transition(job, 'CANCELING');
      job.controller?.abort(new BulwarkError('CANCELED', `the ${job.kind} was canceled`));
    }
    return info(job);
  }

  /** Cancels every queued and running job of a source. */
  cancelSource(sourceId: string, reason: CancelReason = 'user'): void {
    for (const j of [...this.queue, ...this.running.values()])
      if (j.sourceId === sourceId) this.cancel(j.id, reason);
  }

  /**
   * Stops starting jobs. With `interruptRunning` (default) running jobs are canceled too and queued again
   * at the front, to continue (without re-uploading) on `resumeAll()`.
   */
  pauseAll({ interruptRunning = true }: { interruptRunning?: boolean } = {}): void {
    this.isPaused = true;
    if (!interruptRunning) return;
    for (const j of [...this.running.values()]) {
      if (j.state !== 'RUNNING' || j.kind !== 'backup') continue;
      this.cancel(j.id, 'pause');
      if (!this.queue.some((q) => q.sourceId === j.sourceId)) {
        this.enqueue({ sourceId: j.sourceId, targetId: j.targetId, reason: 'resume', changes: j.changes });
        const again = this.queue.pop();
        if (again) this.queue.unshift(again);
      }
    }
    this.checkIdle();
  }

  resumeAll(): void {
    this.isPaused = false;
    this.dispatch();
  }

  get(id: string): JobInfo | undefined {
    const j = this.find(id);
    return j && info(j);
  }

  /** Running jobs, then queued ones in order, then recently finished ones (newest first). */
  list(): JobInfo[] {
    return [...this.running.values(), ...this.queue, ...[...this.finished].reverse()].map(info);
  }

  /** The queued and running backups of a source. */
  activeFor(sourceId: string): { running?: JobInfo; queued?: JobInfo } {
    const r = [...this.running.values()].find((j) => j.sourceId === sourceId && j.kind === 'backup');
    const q = this.queue.find((j) => j.sourceId === sourceId && j.kind === 'backup');
    return { ...(r ? { running: info(r) } : {}), ...(q ? { queued: info(q) } : {}) };
  }

  /** Runs recorded in the catalog, newest first (including those of earlier processes). */
  history(opts: { sourceId?: string; limit?: number } = {}): RunHistoryEntry[] {
    const rows = this.catalog.db
      .prepare<
        [string | null, string | null, number],
        {
          id: number;
          kind: string;
          source: string | null;
          state: RunState;
          started_at: number;
          finished_at: number | null;
          snapshot_id: string | null;
          error: string | null;
          stats: string | null;
        }
      >(
        `SELECT id, kind, source, state, started_at, finished_at, snapshot_id, error, stats FROM runs
         WHERE kind = 'backup' AND (? IS NULL OR source = ?) ORDER BY id DESC LIMIT ?`,
      )
      .all(opts.sourceId ?? null, opts.sourceId ?? null, opts.limit ?? 50);
    return rows.map((r) => ({
      runId: r.id,
      kind: r.kind,
      sourceId: r.source,
      state: r.state,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      snapshotId: r.snapshot_id,
      error: r.error,
      stats: r.stats === null ? null : (JSON.parse(r.stats) as unknown),
    }));
  }

  /** Resolves when the job has reached a final state. */
  async waitFor(id: string): Promise<JobInfo> {
    const job = this.find(id);
    if (!job) throw new BulwarkError('NOT_FOUND', `no job ${id}`);
    await job.done;
    return info(job);
  }

  /** Resolves when nothing runs and nothing can start (queue empty, or paused). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /**
   * Graceful stop: queued jobs are canceled, running ones are canceled and recorded as `interrupted`
   * (the engine leaves the repository valid; the next run resumes). Waits for them up to `timeoutMs`;
   * a run still going after that stays `running` in the catalog and is marked interrupted on next open.
   */
  async shutdown({ timeoutMs = 60_000 }: { timeoutMs?: number } = {}): Promise<void> {
    this.closing = true;
    for (const j of [...this.queue]) this.cancel(j.id, 'shutdown');
    const running = [...this.running.values()];
    for (const j of running) this.cancel(j.id, 'shutdown');
    let timer: unknown;
    await Promise.race([
      Promise.all(running.map((j) => j.done)),
      new Promise<void>((r) => (timer = this.timers.setTimeout(r, timeoutMs))),
    ]);
    this.timers.clearTimeout(timer);
  }

  // ---- internals -------------------------------------------------------------------------------------

  private now(): number {
    return this.clock.now().getTime();
  }

  private find(id: string): Job | undefined {
    return (
      this.running.get(id) ?? this.queue.find((j) => j.id === id) ?? this.finished.find((j) => j.id === id)
    );
  }

  private busy(job: Job): boolean {
    for (const r of this.running.values()) {
      if (r.kind === 'restore') continue; // a restore only reads: it holds nothing a backup needs
      if (r.sourceId === job.sourceId) return true;
      if (r.targetId !== null && r.targetId === job.targetId) return true;
    }
    return false;
  }

  private dispatch(): void {
    while (!this.isPaused && !this.closing && this.backupsRunning() < this.concurrencyLimit) {
      const next = this.queue.find((j) => !this.busy(j));
      if (!next) break;
      this.queue.splice(this.queue.indexOf(next), 1);
      this.start(next);
    }
    this.checkIdle();
  }

  private backupsRunning(): number {
    let n = 0;
    for (const r of this.running.values()) if (r.kind !== 'restore') n++;
    return n;
  }

  private start(job: Job): void {
    job.controller = new AbortController();
    job.startedAt = this.now();
    this.running.set(job.id, job);
    try {
      job.runId = this.catalog.startRun(job.kind, null, job.sourceId, job.startedAt);
    } catch (e) {
      this.transition(job, 'RUNNING');
      this.settle(job, { error: e });
      return;
    }
    this.transition(job, 'RUNNING');

    const meter = new RateMeter(5_000, job.startedAt);
    const throttle = new Throttle<JobProgress>(
      (p) => {
        job.progress = p;
        this.events.emit('job.progress', p);
      },
      this.progressIntervalMs,
      this.clock,
      this.timers,
    );
    job.throttle = throttle;
    const onProgress = (p: RunnerProgress): void => {
      if (isTerminal(job.state)) return;
      const at = this.now();
      if (p.phase === 'restoring') {
        // the restore measures its own rate and ETA (per byte and per file: ops/restore-eta.ts)
        throttle.push({
          jobId: job.id,
          sourceId: job.sourceId,
          phase: p.phase,
          scanDone: true,
          filesDone: p.filesDone,
          filesTotal: p.filesTotal,
          bytesDone: p.bytesDone,
          bytesTotal: p.bytesTotal,
          bytesAdded: 0,
          rate: p.rate,
          ...(p.etaSeconds !== undefined ? { etaSeconds: p.etaSeconds } : {}),
          ...(p.currentPath !== undefined ? { currentPath: p.currentPath } : {}),
          at,
        });
        return;
      }
      const rate = meter.sample(at, p.bytesDone);
      const left = p.bytesTotal - p.bytesDone;
      throttle.push({
        jobId: job.id,
        sourceId: job.sourceId,
        phase: p.phase,
        scanDone: p.scanDone,
        filesDone: p.filesDone,
        filesTotal: p.filesTotal,
        bytesDone: p.bytesDone,
        bytesTotal: p.bytesTotal,
        bytesAdded: p.bytesAdded,
        rate,
        ...(p.scanDone && rate > 0 ? { etaSeconds: Math.max(0, left) / rate } : {}),
        ...(p.currentPath !== undefined ? { currentPath: p.currentPath } : {}),
        at,
      });
    };
    const signal = job.controller.signal;
    void (async () => {
      let outcome: { result: RunResult } | { error: unknown };
      try {
        outcome = { result: await (job.runner ?? this.runner)(info(job), { signal, onProgress }) };
      } catch (e) {
        outcome = { error: e };
      }
      this.settle(job, outcome);
    })();
  }

  private settle(job: Job, outcome: { result: RunResult } | { error: unknown }): void {
    job.throttle?.flush();
    job.throttle?.stop();
    job.throttle = undefined;
    let final: 'SUCCEEDED' | 'FAILED' | 'CANCELED';
    let stats: unknown;
    if ('result' in outcome) {
      final = 'SUCCEEDED';
      job.snapshotId = outcome.result.snapshotId ?? null;
      job.restore = outcome.result.restore ?? null;
      stats = outcome.result.stats ?? outcome.result.restore;
    } else {
      final = job.controller?.signal.aborted && job.state === 'CANCELING' ? 'CANCELED' : 'FAILED';
      if (final === 'FAILED') job.error = toJobError(outcome.error);
    }
    if (job.runId !== null) {
      const runState =
        final === 'CANCELED' && job.cancelReason === 'shutdown' ? 'interrupted' : RUN_STATE[final];
      try {
        this.catalog.finishRun(job.runId, runState, {
          ...(job.snapshotId ? { snapshotId: job.snapshotId } : {}),
          stats: {
            reason: job.reason,
            changes: job.changes,
            ...(stats === undefined
              ? {}
              : job.kind === 'restore'
                ? { restore: stats }
                : job.kind === 'backup'
                  ? { snapshot: stats }
                  : { [job.kind]: stats }),
          },
          ...(job.error ? { error: `${job.error.code}: ${job.error.message}` } : {}),
          ...(final === 'CANCELED' ? { error: `CANCELED: ${job.cancelReason ?? 'user'}` } : {}),
        });
      } catch (e) {
        // The catalog went away (disk full, closed): the job's outcome still reaches the listeners.
        process.emitWarning(
          `cannot record run ${job.runId}: ${toJobError(e).message}`,
          'BulwarkServiceWarning',
        );
      }
    }
    this.running.delete(job.id);
    this.finish(job, final);
    this.dispatch();
  }

  private finish(job: Job, final: 'SUCCEEDED' | 'FAILED' | 'CANCELED'): void {
    job.finishedAt = this.now();
    this.transition(job, final);
    job.controller = undefined;
    this.finished.push(job);
    if (this.finished.length > this.keepFinished)
      this.finished.splice(0, this.finished.length - this.keepFinished);
    job.resolveDone();
  }

  private transition(job: Job, to: JobState): void {
    assertTransition(job.state, to);
    const previous = job.state;
    job.state = to;
    this.emitState(job, previous);
  }

  private emitState(job: Job, previous: JobState | null): void {
    this.events.emit('job.state', { job: info(job), previous, at: this.now() });
  }

  private isIdle(): boolean {
    return this.running.size === 0 && (this.queue.length === 0 || this.isPaused || this.closing);
  }

  private checkIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }
}

function info(j: Job): JobInfo {
  return {
    id: j.id,
    kind: j.kind,
    sourceId: j.sourceId,
    targetId: j.targetId,
    reason: j.reason,
    changes: j.changes,
    requests: j.requests,
    state: j.state,
    queuedAt: j.queuedAt,
    startedAt: j.startedAt,
    finishedAt: j.finishedAt,
    runId: j.runId,
    snapshotId: j.snapshotId,
    error: j.error,
    cancelReason: j.cancelReason,
    progress: j.progress,
    restore: j.restore,
  };
}

function positive(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1)
    throw new BulwarkError('INVALID_ARGUMENT', `${what} must be a positive integer`);
  return n;
}
