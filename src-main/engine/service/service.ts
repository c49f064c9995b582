import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { backup, type BackupOptions } from '../backup/backup.ts';
import { Catalog, type RunState } from '../catalog/catalog.ts';
import { systemClock, type Clock } from '../clock.ts';
import { ensureDefaultRepository, readDefaultKey } from '../default-repo.ts';
import { BulwarkError, isBulwarkError } from '../errors.ts';
import { openStore } from '../index.ts';
import { defaultKeyFile, ensurePrivateDirs, localPaths, type LocalPaths } from '../paths.ts';
import type { LockPolicy } from '../repo/format.ts';
import { initRepository, readConfig, Repository, type InitOptions } from '../repo/repository.ts';
import type { BlobStore } from '../storage/types.ts';
import { AlertCenter, type Alert, type AlertKind } from './alerts.ts';
import { TypedEvents } from './events.ts';
import {
  JobManager,
  toJobError,
  type JobInfo,
  type JobProgress,
  type JobReason,
  type JobStateEvent,
  type RunHistoryEntry,
} from './jobs.ts';
import {
  compileFilter,
  isInside,
  ServiceConfig,
  sourceKey,
  type Source,
  type SourceInput,
  type SourceUpdate,
  type Target,
  type TargetInput,
  type TargetUpdate,
} from './sources.ts';
import { ThrottledStore, TokenBucket } from './throttled-store.ts';
import { realTimers, type Timers } from './timers.ts';
import { SourceWatcher, type WatcherOptions, type WatchStatus } from './watcher.ts';

const MINUTE = 60_000;

export interface BackupServiceOptions {
  /** the service's home, laid out like BULWARK_HOME: <home>/data, <home>/config, <home>/cache */
  home?: string;
  /** explicit local folders instead of `home` (e.g. `localPaths()` for the platform's usual places) */
  paths?: LocalPaths;
  clock?: Clock;
  /** the repository password of a target (not asked for the embedded default target: it has a key file) */
  passwordFor(target: Target): string | Promise<string>;
  /** opens a target's storage; default: openStore(location, {endpoint, region, clock}) */
  storeFor?(target: Target): BlobStore | Promise<BlobStore>;
  /** jobs running at the same time across sources (default 1) */
  concurrency?: number;
  /** scrypt cost for repositories the service creates (tests use a cheap one) */
  kdf?: InitOptions['kdf'];
  /** how often RPO and the rescan schedule are evaluated (default 30 s); `tick()` does it on demand */
  tickMs?: number;
  /** spacing of progress events per job (default 250 ms) */
  progressIntervalMs?: number;
  /** first retry after a failed or interrupted run (default 1 min), doubled per failure up to the rescan interval */
  retryBaseMs?: number;
  /** watcher tuning; `enabled: false` runs on rescans only */
  watch?: Omit<WatcherOptions, 'clock' | 'timers'> & { enabled?: boolean };
  /** engine tuning passed to every backup */
  backup?: Pick<BackupOptions, 'readers' | 'packTarget' | 'uploadConcurrency'>;
  timers?: Timers;
  /** a running job still going this long after stop() is left to the crash recovery (default 60 s) */
  stopTimeoutMs?: number;
}

export type RpoState = 'ok' | 'pending' | 'missed';

export interface SourceStatus extends Source {
  target: Pick<Target, 'id' | 'name' | 'location' | 'kind'> | null;
  /** a successful snapshot within the RPO exists */
  protected: boolean;
  /** pending: never backed up yet, but added less than one RPO ago */
  rpoState: RpoState;
  lastSnapshotAt: number | null;
  lastRun: {
    runId: number;
    state: RunState;
    startedAt: number;
    finishedAt: number | null;
    error: string | null;
  } | null;
  /** when the next scheduled rescan is due (null: disabled) */
  nextRunAt: number | null;
  job: JobInfo | null;
  watch: WatchStatus | null;
}

export interface ServiceEvents {
  'job.state': JobStateEvent;
  'job.progress': JobProgress;
  'alert.raised': Alert;
  'alert.cleared': Alert;
  'alert.acknowledged': Alert;
  /** a source was added, updated or removed */
  'source.changed': { sourceId: string; removed: boolean };
  /** a watcher changed mode (native, polling, rescan-only, ...) */
  'watch.status': WatchStatus;
}

export interface AddTargetOptions {
  /** open the target now and check the password (default true) */
  probe?: boolean;
  /** create the repository when the location holds none (with `passwordFor(target)`) */
  initialize?: boolean;
  /** lock policy for a repository created here (S3 Object Lock) */
  lock?: LockPolicy | null;
}

interface OpenTarget {
  store: BlobStore;
  repo: Repository;
}

/**
 * The unattended backup service (DESIGN §4–§6), without any transport: sources are watched (events are
 * hints) and rescanned on a schedule (the truth), backups run through the job manager one per source,
 * alerts are raised and cleared as conditions come and go, and everything is recorded in one catalog
 * (`<data>/service.db`: targets, sources, alerts, runs, plus the cache of every target's repository).
 */
export class BackupService {
  readonly paths: LocalPaths;
  /** Bulwark's folders that were open to others and were made private (0700) when the service started */
  readonly permissionsTightened: { dir: string; mode: number }[];
  readonly catalog: Catalog;
  readonly config: ServiceConfig;
  readonly alerts: AlertCenter;
  readonly jobs: JobManager;
  private readonly events = new TypedEvents<ServiceEvents>();
  private readonly opts: BackupServiceOptions;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly watchers = new Map<string, SourceWatcher>();
  private readonly repos = new Map<string, OpenTarget>();
  private readonly buckets = new Map<string, TokenBucket>();
  /** errors thrown by a target's store (to tell "target unreachable" from "source unreadable") */
  private readonly targetErrors = new WeakSet<object>();
  private defaultTargetPromise: Promise<Target> | undefined;
  private tickTimer: unknown;
  private state: 'new' | 'started' | 'stopping' | 'stopped' = 'new';

  constructor(opts: BackupServiceOptions) {
    if (!opts.paths && !opts.home)
      throw new BulwarkError('INVALID_ARGUMENT', 'the backup service needs a home folder (or paths)');
    this.opts = opts;
    this.paths = opts.paths ?? localPaths({ BULWARK_HOME: opts.home });
    this.clock = opts.clock ?? systemClock;
    this.timers = opts.timers ?? realTimers;
    // Private to this account (service.db holds decrypted file names; Catalog.open makes it 0600).
    this.permissionsTightened = ensurePrivateDirs(this.paths);
    // Catalog.open marks runs left 'running' by a crash as 'interrupted'.
    this.catalog = Catalog.open(join(this.paths.dataDir, 'service.db'), { clock: this.clock });
    this.config = new ServiceConfig(this.catalog, this.clock);
    this.alerts = new AlertCenter(this.catalog, this.clock);
    this.jobs = new JobManager({
      catalog: this.catalog,
      clock: this.clock,
      runner: (job, ctx) => this.runBackup(job, ctx.signal, ctx.onProgress),
      concurrency: opts.concurrency ?? 1,
      progressIntervalMs: opts.progressIntervalMs ?? 250,
      timers: this.timers,
    });
    this.jobs.on('job.state', (e) => this.events.emit('job.state', e));
    this.jobs.on('job.progress', (p) => this.events.emit('job.progress', p));
    this.alerts.on('alert.raised', (a) => this.events.emit('alert.raised', a));
    this.alerts.on('alert.cleared', (a) => this.events.emit('alert.cleared', a));
    this.alerts.on('alert.acknowledged', (a) => this.events.emit('alert.acknowledged', a));
  }

  on<K extends keyof ServiceEvents>(event: K, listener: (payload: ServiceEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  get started(): boolean {
    return this.state === 'started';
  }

  // ---- lifecycle -------------------------------------------------------------------------------------

  /** Starts the watchers and the scheduler (a source never backed up is queued at once). */
  async start(): Promise<void> {
    this.assertOpen();
    if (this.state === 'started') return;
    this.state = 'started';
    for (const s of this.config.sources()) if (s.enabled) this.startWatcher(s);
    const loop = (): void => {
      this.tickTimer = this.timers.setTimeout(() => {
        if (this.state !== 'started') return;
        this.tick();
        loop();
      }, this.opts.tickMs ?? 30_000);
    };
    loop();
    this.tick();
  }

  /**
   * Graceful stop: watchers and timers stop, queued jobs are dropped, a running backup is canceled (the
   * engine leaves the repository valid; its run is recorded `interrupted` and the next start resumes it).
   * The service cannot be started again; create a new one.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    if (this.tickTimer !== undefined) this.timers.clearTimeout(this.tickTimer);
    await Promise.all([...this.watchers.values()].map((w) => w.stop()));
    this.watchers.clear();
    await this.jobs.shutdown({ timeoutMs: this.opts.stopTimeoutMs ?? 60_000 });
    for (const t of this.repos.values()) await t.store.close?.().catch(() => undefined);
    this.repos.clear();
    this.catalog.close();
    this.state = 'stopped';
  }

  /** Resolves once every watcher has started (or fallen back). */
  async whenWatching(): Promise<void> {
    await Promise.all([...this.watchers.values()].map((w) => w.whenSettled()));
  }

  /**
   * Evaluates RPO for every source (raising or clearing rpo-missed) and, when started, queues the
   * rescans that are due. Runs on a timer; tests call it after moving a FakeClock.
   */
  tick(): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    const now = this.now();
    for (const s of this.config.sources()) {
      if (!s.enabled) continue;
      this.evaluateRpo(s, now);
      if (this.state !== 'started' || this.jobs.paused) continue;
      const next = this.nextRunAt(s);
      const active = this.jobs.activeFor(s.id);
      if (next !== null && next <= now && !active.running && !active.queued) {
        const last = this.lastRun(s.id);
        const reason: JobReason =
          last && (last.state === 'failed' || last.state === 'interrupted') ? 'retry' : 'rescan';
        this.enqueue(s, reason, 0);
      }
    }
  }

  // ---- targets ---------------------------------------------------------------------------------------

  listTargets(): Target[] {
    return this.config.targets();
  }

  /**
   * The embedded default target: a repository folder in the data dir with a random password in a 0600 key
   * file (the same one the CLI uses without --repo). Created on first use.
   */
  ensureDefaultTarget(): Promise<Target> {
    this.assertOpen();
    const existing = this.config.defaultTarget();
    if (existing) return Promise.resolve(existing);
    this.defaultTargetPromise ??= (async () => {
      try {
        const dr = await ensureDefaultRepository(this.paths, {
          clock: this.clock,
          ...(this.opts.kdf ? { kdf: this.opts.kdf } : {}),
        });
        const t =
          this.config.defaultTarget() ??
          this.config.addTarget(
            { name: 'This computer', location: dr.location },
            { id: 'default', isDefault: true },
          );
        this.config.recordRepository(t.id, dr.config.id, dr.config.lock);
        return this.config.target(t.id);
      } finally {
        this.defaultTargetPromise = undefined;
      }
    })();
    return this.defaultTargetPromise;
  }

  /** Adds a target; by default opens it (checking the password) and refuses it if that fails. */
  async addTarget(input: TargetInput, opts: AddTargetOptions = {}): Promise<Target> {
    this.assertOpen();
    const t = this.config.addTarget(input);
    if (opts.probe === false && !opts.initialize) return t;
    try {
      await this.openTarget(t, undefined, opts.initialize ? { lock: opts.lock ?? null } : undefined);
    } catch (e) {
      this.config.removeTarget(t.id);
      throw e;
    }
    return this.config.target(t.id);
  }

  updateTarget(id: string, input: TargetUpdate): Target {
    this.assertOpen();
    const before = this.config.target(id);
    const t = this.config.updateTarget(id, input);
    this.buckets.get(id)?.setRate(t.bytesPerSecond);
    if (before.endpoint !== t.endpoint || before.region !== t.region) this.dropTarget(id);
    return t;
  }

  /** Removes a target no source uses; its alerts are cleared. */
  removeTarget(id: string): void {
    this.assertOpen();
    this.config.removeTarget(id);
    this.dropTarget(id);
    this.buckets.delete(id);
    for (const kind of [
      'target-unreachable',
      'repository-damaged',
      'selftest-failed',
      'lock-invariant-broken',
    ] as const)
      this.alerts.clear(kind, { targetId: id });
  }

  // ---- sources ---------------------------------------------------------------------------------------

  /** Adds a source. Without targetId: the only target, else the default one (created if needed). */
  async addSource(input: SourceInput): Promise<SourceStatus> {
    this.assertOpen();
    let targetId = input.targetId;
    if (targetId === undefined) {
      const targets = this.config.targets();
      const only = targets.length === 1 ? targets[0] : undefined;
      if (only) targetId = only.id;
      else if (targets.length === 0) targetId = (await this.ensureDefaultTarget()).id;
      else {
        const def = this.config.defaultTarget();
        if (!def)
          throw new BulwarkError(
            'INVALID_ARGUMENT',
            'several targets are configured: say which one (targetId)',
          );
        targetId = def.id;
      }
    }
    const s = this.config.addSource({ ...input, targetId });
    if (this.state === 'started' && s.enabled) {
      this.startWatcher(s);
      this.tick();
    }
    this.events.emit('source.changed', { sourceId: s.id, removed: false });
    return this.sourceStatus(s);
  }

  async updateSource(id: string, input: SourceUpdate): Promise<SourceStatus> {
    this.assertOpen();
    const s = this.config.updateSource(id, input);
    const w = this.watchers.get(id);
    if (w) {
      this.watchers.delete(id);
      await w.stop();
    }
    if (!s.enabled) this.alerts.clear('rpo-missed', { sourceId: id });
    if (this.state === 'started' && s.enabled) this.startWatcher(s);
    this.events.emit('source.changed', { sourceId: id, removed: false });
    return this.sourceStatus(s);
  }

  /** Removes a source: its jobs are canceled, its watcher stopped, its open alerts cleared. */
  async removeSource(id: string): Promise<void> {
    this.assertOpen();
    this.config.source(id);
    this.jobs.cancelSource(id, 'removed');
    const w = this.watchers.get(id);
    this.watchers.delete(id);
    await w?.stop();
    this.config.removeSource(id);
    for (const a of this.alerts.list({ active: true, sourceId: id }))
      this.alerts.clear(a.kind, { sourceId: id });
    this.events.emit('source.changed', { sourceId: id, removed: true });
  }

  getSource(id: string): SourceStatus {
    return this.sourceStatus(this.config.source(id));
  }

  listSources(): SourceStatus[] {
    return this.config.sources().map((s) => this.sourceStatus(s));
  }

  watchStatus(sourceId: string): WatchStatus | undefined {
    return this.watchers.get(sourceId)?.status();
  }

  // ---- jobs ------------------------------------------------------------------------------------------

  /** Queues a backup of the source now (merged with one already queued). */
  runNow(sourceId: string): JobInfo {
    this.assertOpen();
    return this.enqueue(this.config.source(sourceId), 'manual', 0);
  }

  /** A full rescan: an incremental backup that compares every file with the last snapshot. */
  rescan(sourceId: string): JobInfo {
    this.assertOpen();
    return this.enqueue(this.config.source(sourceId), 'rescan', 0);
  }

  cancel(jobId: string): JobInfo {
    return this.jobs.cancel(jobId, 'user');
  }

  /** Stops starting jobs; by default running ones are interrupted and continue on resumeAll(). */
  pauseAll(opts: { interruptRunning?: boolean } = {}): void {
    this.jobs.pauseAll(opts);
  }

  resumeAll(): void {
    this.jobs.resumeAll();
    if (this.state === 'started') this.tick();
  }

  get paused(): boolean {
    return this.jobs.paused;
  }

  listJobs(): JobInfo[] {
    return this.jobs.list();
  }

  getJob(id: string): JobInfo | undefined {
    return this.jobs.get(id);
  }

  waitForJob(id: string): Promise<JobInfo> {
    return this.jobs.waitFor(id);
  }

  whenIdle(): Promise<void> {
    return this.jobs.whenIdle();
  }

  /** Runs recorded in the catalog, newest first (earlier processes included). */
  history(opts: { sourceId?: string; limit?: number } = {}): RunHistoryEntry[] {
    return this.jobs.history(opts);
  }

  // ---- alerts ----------------------------------------------------------------------------------------

  listAlerts(opts: { active?: boolean; sourceId?: string; targetId?: string; limit?: number } = {}): Alert[] {
    return this.alerts.list(opts);
  }

  acknowledgeAlert(id: number): Alert {
    return this.alerts.acknowledge(id);
  }

  // ---- internals -------------------------------------------------------------------------------------

  private now(): number {
    return this.clock.now().getTime();
  }

  private assertOpen(): void {
    if (this.state === 'stopping' || this.state === 'stopped')
      throw new BulwarkError('CANCELED', 'the backup service is stopped');
  }

  private enqueue(s: Source, reason: JobReason, changes: number): JobInfo {
    return this.jobs.enqueue({ sourceId: s.id, targetId: s.targetId, reason, changes });
  }

  private lastRun(sourceId: string): RunHistoryEntry | undefined {
    return this.jobs.history({ sourceId, limit: 1 })[0];
  }

  /** The rescan interval, shorter (half the RPO) while the source is not watched live. */
  private rescanMs(s: Source): number {
    const base = s.rescanMinutes * MINUTE;
    const w = this.watchers.get(s.id)?.status();
    if (this.state === 'started' && (!w || w.mode === 'rescan-only'))
      return Math.min(base, Math.max(MINUTE, (s.rpoMinutes * MINUTE) / 2));
    return base;
  }

  private nextRunAt(s: Source): number | null {
    if (!s.enabled) return null;
    const runs = this.jobs.history({ sourceId: s.id, limit: 20 });
    const last = runs[0];
    if (!last) return s.createdAt;
    const interval = this.rescanMs(s);
    let failures = 0;
    for (const r of runs) {
      if (r.state !== 'failed' && r.state !== 'interrupted') break;
      failures++;
    }
    if (failures === 0) return last.startedAt + interval;
    const retry = (this.opts.retryBaseMs ?? MINUTE) * 2 ** Math.min(failures - 1, 20);
    return last.startedAt + Math.min(interval, retry);
  }

  private rpoState(s: Source, now: number): RpoState {
    const limit = s.rpoMinutes * MINUTE;
    if (s.lastSuccessAt !== null && now - s.lastSuccessAt <= limit) return 'ok';
    if (s.lastSuccessAt === null && now - s.createdAt <= limit) return 'pending';
    return 'missed';
  }

  private evaluateRpo(s: Source, now: number): void {
    if (this.rpoState(s, now) !== 'missed') {
      this.alerts.clear('rpo-missed', { sourceId: s.id });
      return;
    }
    const age = s.lastSuccessAt === null ? undefined : now - s.lastSuccessAt;
    this.alerts.raise({
      kind: 'rpo-missed',
      sourceId: s.id,
      targetId: s.targetId,
      text:
        age === undefined
          ? `${s.name} has never been backed up (recovery point objective: ${duration(s.rpoMinutes * MINUTE)}).`
          : `${s.name} was last backed up ${duration(age)} ago (recovery point objective: ${duration(s.rpoMinutes * MINUTE)}).`,
    });
  }

  private sourceStatus(s: Source): SourceStatus {
    const now = this.now();
    const t = this.config.findTarget(s.targetId);
    const last = this.lastRun(s.id);
    const active = this.jobs.activeFor(s.id);
    const rpoState = this.rpoState(s, now);
    return {
      ...s,
      target: t ? { id: t.id, name: t.name, location: t.location, kind: t.kind } : null,
      protected: rpoState === 'ok',
      rpoState,
      lastSnapshotAt: s.lastSuccessAt,
      lastRun: last
        ? {
            runId: last.runId,
            state: last.state,
            startedAt: last.startedAt,
            finishedAt: last.finishedAt,
            error: last.error,
          }
        : null,
      nextRunAt: this.nextRunAt(s),
      job: active.running ?? active.queued ?? null,
      watch: this.watchers.get(s.id)?.status() ?? null,
    };
  }

  private startWatcher(s: Source): void {
    if (this.opts.watch?.enabled === false || this.watchers.has(s.id)) return;
    const filter = compileFilter(s.paths, s.include, s.exclude);
    // Never watch the service's own files or a folder repository: a backup would trigger the next one.
    const internal = [
      this.paths.dataDir,
      this.paths.cacheDir,
      this.paths.configDir,
      ...this.config.targets().flatMap((t) => (t.kind === 'fs' ? [t.location] : [])),
    ];
    const { enabled: _enabled, ...watchOpts } = this.opts.watch ?? {};
    const w = new SourceWatcher(
      {
        sourceId: s.id,
        roots: s.paths,
        quietMs: s.quietSeconds * 1000,
        ignore: (p, isFile) =>
          internal.some((d) => isInside(d, p)) ||
          filter.excluded(p) ||
          (isFile === true && !filter.included(p)),
      },
      {
        onBatch: (b) => {
          if (this.state !== 'started') return;
          const cur = this.config.findSource(s.id);
          if (!cur?.enabled) return;
          this.enqueue(cur, b.resync ? 'rescan' : 'watch', b.count);
        },
        onStatus: (st) => this.onWatchStatus(s.id, st),
      },
      { ...watchOpts, clock: this.clock, timers: this.timers },
    );
    this.watchers.set(s.id, w);
    void w.start();
  }

  private onWatchStatus(sourceId: string, st: WatchStatus): void {
    this.events.emit('watch.status', st);
    if (this.state !== 'started') return;
    const s = this.config.findSource(sourceId);
    if (!s) return;
    if (!st.degraded) {
      if (st.mode === 'native' || st.mode === 'polling') this.alerts.clear('watch-degraded', { sourceId });
      return;
    }
    const every = duration(this.rescanMs(s));
    let text: string;
    if (st.missingRoots.length > 0)
      text = `${s.name}: ${st.missingRoots.join(', ')} cannot be found (unplugged or moved?); checking again later.`;
    else if (st.mode === 'polling')
      text = `${s.name}: live watching is not available (${st.lastError?.code ?? 'error'}); changes are found by polling.`;
    else
      text = `${s.name}: the folder watcher failed (${st.lastError?.code ?? 'error'}: ${st.lastError?.message ?? ''}); changes are found by rescans every ${every}.`;
    this.alerts.raise({ kind: 'watch-degraded', sourceId, text });
  }

  private bucketFor(t: Target): TokenBucket {
    let b = this.buckets.get(t.id);
    if (!b) {
      b = new TokenBucket(t.bytesPerSecond, { timers: this.timers });
      this.buckets.set(t.id, b);
    }
    return b;
  }

  private dropTarget(id: string): void {
    const cached = this.repos.get(id);
    if (!cached) return;
    this.repos.delete(id);
    const busy = this.jobs
      .list()
      .some((j) => j.targetId === id && (j.state === 'RUNNING' || j.state === 'CANCELING'));
    // A job still using the store keeps it; it is simply not reused afterwards.
    if (!busy) void cached.store.close?.().catch(() => undefined);
  }

  private async password(t: Target): Promise<string> {
    if (!t.isDefault) return this.opts.passwordFor(t);
    const keyFile = defaultKeyFile(this.paths);
    const pw = readDefaultKey(keyFile);
    if (pw === undefined) {
      throw new BulwarkError('NOT_FOUND', `the key file of the default repository (${keyFile}) is missing`, {
        hint: 'Put back the copy of it you kept; without it the default repository cannot be read.',
      });
    }
    return pw;
  }

  /**
   * The target's repository, unlocked. A cached one is reused only if the repository is still there and
   * still the same (one small read): a folder that was deleted or replaced must fail as unreachable, not be
   * silently recreated by the next upload.
   */
  private async openTarget(
    t: Target,
    signal: AbortSignal | undefined,
    init?: { lock: LockPolicy | null },
  ): Promise<Repository> {
    const cached = this.repos.get(t.id);
    if (cached) {
      try {
        const cfg = await readConfig(cached.store);
        if (cfg.id === cached.repo.config.id) return cached.repo;
        throw new BulwarkError('REPO_NOT_FOUND', `${t.location} now holds another repository (${cfg.id})`, {
          hint: 'Point the target back at its repository, or remove and add the target again.',
        });
      } catch (e) {
        this.dropTarget(t.id);
        throw e;
      }
    }
    const inner = await (this.opts.storeFor
      ? this.opts.storeFor(t)
      : openStore(t.location, {
          clock: this.clock,
          ...(t.endpoint ? { endpoint: t.endpoint } : {}),
          ...(t.region ? { region: t.region } : {}),
        }));
    const store = new ThrottledStore(inner, this.bucketFor(t), {
      onError: (e) => {
        if (typeof e === 'object' && e !== null) this.targetErrors.add(e);
      },
    });
    try {
      if (signal?.aborted) throw new BulwarkError('CANCELED', 'the operation was canceled');
      const password = await this.password(t);
      if (init) {
        const exists = await readConfig(store).then(
          () => true,
          (e: unknown) => {
            if (isBulwarkError(e, 'REPO_NOT_FOUND')) return false;
            throw e;
          },
        );
        if (!exists)
          await initRepository(store, password, {
            clock: this.clock,
            lock: init.lock,
            ...(this.opts.kdf ? { kdf: this.opts.kdf } : {}),
          });
      }
      const repo = await Repository.open(store, password, this.catalog, { clock: this.clock });
      if (t.repoId !== null && t.repoId !== repo.config.id) {
        throw new BulwarkError(
          'REPO_NOT_FOUND',
          `${t.location} now holds another repository (${repo.config.id})`,
          {
            hint: 'Point the target back at its repository, or remove and add the target again.',
          },
        );
      }
      this.config.recordRepository(t.id, repo.config.id, repo.config.lock);
      this.repos.set(t.id, { store, repo });
      return repo;
    } catch (e) {
      await store.close?.().catch(() => undefined);
      throw e;
    }
  }

  private isTargetError(e: unknown): boolean {
    for (let x: unknown = e, depth = 0; x !== undefined && x !== null && depth < 5; depth++) {
      if (typeof x === 'object' && this.targetErrors.has(x)) return true;
      x = (x as { cause?: unknown }).cause;
    }
    return false;
  }

  /** The job runner: one incremental backup of a source into its target, with alerts raised or cleared. */
  private async runBackup(
    job: Readonly<JobInfo>,
    signal: AbortSignal,
    onProgress: NonNullable<BackupOptions['onProgress']>,
  ): Promise<{ snapshotId: string; stats: unknown }> {
    const s = this.config.source(job.sourceId);
    const t = this.config.target(s.targetId);
    const startedAt = job.startedAt ?? this.now();
    let phase: 'open' | 'backup' = 'open';
    const tmpBase = join(this.paths.cacheDir, 'packs', job.id);
    try {
      const repo = await this.openTarget(t, signal);
      phase = 'backup';
      const snap = await backup(repo, {
        paths: s.paths,
        source: sourceKey(s.id),
        signal,
        onProgress,
        tmpDir: tmpBase,
        include: s.include,
        exclude: s.exclude,
        // Never back up the service's own state or a folder repository into itself.
        actor: 'service',
        skipPaths: [
          this.paths.dataDir,
          this.paths.cacheDir,
          this.paths.configDir,
          ...this.config.targets().flatMap((x) => (x.kind === 'fs' ? [x.location] : [])),
        ],
        ...this.opts.backup,
      });
      this.config.recordSuccess(s.id, startedAt, snap.id);
      this.alerts.clear('backup-failed', { sourceId: s.id });
      this.alerts.clear('target-unreachable', { targetId: t.id });
      this.alerts.clear('lock-invariant-broken', { targetId: t.id });
      this.raiseTampering(t, repo);
      const fresh = this.config.findSource(s.id);
      if (fresh) this.evaluateRpo(fresh, this.now());
      return { snapshotId: snap.id, stats: snap.stats };
    } catch (e) {
      const cached = this.repos.get(t.id)?.repo;
      if (cached) this.raiseTampering(t, cached);
      if (!signal.aborted && this.config.findSource(s.id)) this.raiseFailure(s, t, e, phase);
      if (phase === 'open' || this.isTargetError(e)) this.dropTarget(t.id);
      throw e;
    } finally {
      rmSync(tmpBase, { recursive: true, force: true });
    }
  }

  /** One alert per target while versions someone else wrote over its objects are not acknowledged. */
  private raiseTampering(t: Target, repo: Repository): void {
    const open = repo.catalog.tampering(repo.rid, { open: true }).filter((f) => f.name !== 'config');
    if (open.length === 0) {
      this.alerts.clear('repository-tampered', { targetId: t.id });
      return;
    }
    const names = [...new Set(open.map((f) => f.name))];
    this.alerts.raise({
      kind: 'repository-tampered',
      targetId: t.id,
      text:
        `Someone with the storage keys of this computer changed ${names.length === 1 ? 'a backup file' : `${names.length} backup files`} ` +
        `on ${t.name} (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}). The originals are locked and still used.`,
    });
  }

  private raiseFailure(s: Source, t: Target, e: unknown, phase: 'open' | 'backup'): void {
    const err = toJobError(e);
    let kind: AlertKind;
    if (err.code === 'LOCK_INVARIANT_BROKEN') kind = 'lock-invariant-broken';
    else if (err.code === 'CORRUPT' || err.code === 'REPO_DAMAGED') kind = 'repository-damaged';
    else if (phase === 'open' || this.isTargetError(e)) kind = 'target-unreachable';
    else kind = 'backup-failed';
    const where = `${t.name}${t.name === t.location ? '' : ` (${t.location})`}`;
    const text =
      kind === 'backup-failed'
        ? `The backup of ${s.name} failed: ${err.message}`
        : kind === 'target-unreachable'
          ? `${where} cannot be used, so ${s.name} is not being backed up: ${err.message}`
          : kind === 'lock-invariant-broken'
            ? `Backups to ${where} are stopped: ${err.message}`
            : `The repository at ${where} is damaged: ${err.message}`;
    this.alerts.raise({
      kind,
      ...(kind === 'backup-failed' ? { sourceId: s.id } : { targetId: t.id }),
      text,
      ...(err.hint ? { action: err.hint } : {}),
    });
  }
}

/** Creates the service (opens its catalog; a run a crash left 'running' becomes 'interrupted'). */
export function createBackupService(opts: BackupServiceOptions): BackupService {
  return new BackupService(opts);
}

function duration(ms: number): string {
  const m = Math.round(ms / MINUTE);
  if (m < 1) return `${Math.max(1, Math.round(ms / 1000))} s`;
  if (m < 120) return `${m} min`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h`;
  return `${Math.round(h / 24)} days`;
}
