import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { backup, type BackupOptions } from '../backup/backup.ts';
import { Catalog, type RunState } from '../catalog/catalog.ts';
import { systemClock, type Clock } from '../clock.ts';
import { ensureDefaultRepository, readDefaultKey } from '../default-repo.ts';
import { BulwarkError, isBulwarkError } from '../errors.ts';
import { openStore } from '../index.ts';
import { defaultKeyFile, ensurePrivateDirs, localPaths, type LocalPaths } from '../paths.ts';
import { runRestorePlan } from '../ops/restore.ts';
import type { ConflictPolicy } from '../ops/restore-place.ts';
import { planRestore, type RestoreDestination, type RestorePlan } from '../ops/restore-plan.ts';
import type { LockPolicy, SnapshotManifest } from '../repo/format.ts';
import { initRepository, readConfig, Repository, type InitOptions } from '../repo/repository.ts';
import type { BlobStore } from '../storage/types.ts';
import { AlertCenter, type Alert } from './alerts.ts';
import { TypedEvents } from './events.ts';
import { checkFolder, missingFolders, realDisk, sameDisk, type DiskProbe } from './folders.ts';
import { HistoryCatchUp } from './history-catch-up.ts';
import {
  JobManager,
  toJobError,
  type JobInfo,
  type JobProgress,
  type JobReason,
  type JobStateEvent,
  type RestoreJobSummary,
  type RunHistoryEntry,
  type RunnerProgress,
} from './jobs.ts';
import {
  BLOCKING_TARGET_ALERTS,
  evaluateProtection,
  humanDuration,
  overallProtection,
  TARGET_ALERT_KINDS,
  type OverallProtection,
  type Protection,
  type TargetAlertKind,
} from './protection.ts';
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
import { RetentionService, type RetentionServiceOptions } from './retention.ts';
import { ServiceDrills } from './drills.ts';
import { ServiceCopies, type ThreeTwoOne } from './copies.ts';
import { NotificationCenter, type NotificationCenterOptions } from './notify/dispatcher.ts';
import { fileNotifySecretStore, notifySecretsFile } from './notify/settings.ts';
import { repositoryBytes } from './storage-stats.ts';
import {
  RansomwareGuard,
  type FileEvent,
  type Incident,
  type Resolution,
  type SourceSignals,
} from '../signals/index.ts';
import { ThrottledStore, TokenBucket } from './throttled-store.ts';
import { realTimers, type Timers } from './timers.ts';
import { SourceWatcher, type WatcherOptions, type WatchStatus } from './watcher.ts';

const MINUTE = 60_000;
/** A restore plan is kept this long for restore.start (then it is planned again: the disk may have changed). */
const PLAN_TTL_MS = 15 * MINUTE;
/** Plans kept at most (the oldest goes first): each holds the file list of its selection. */
const MAX_PLANS = 20;
/** Failures a restore job keeps for people (the rest are counted). */
const MAX_RESTORE_FAILURES = 1000;

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
  /** looks at folders (is a source's folder there, which disk is it on); tests put targets on "another disk" */
  disk?: DiskProbe;
  /** alert delivery (email, webhook): its secrets default to a 0600 file in the config folder */
  notify?: Partial<Omit<NotificationCenterOptions, 'catalog' | 'clock' | 'alerts' | 'timers'>>;
  /** the upkeep schedule: lock checks, prunes (service/retention.ts) */
  retention?: RetentionServiceOptions;
}

export type RpoState = 'ok' | 'pending' | 'missed';

export interface SourceStatus extends Source {
  target: Pick<Target, 'id' | 'name' | 'location' | 'kind'> | null;
  /** true only when `protection.state` is 'protected' */
  protected: boolean;
  /** DESIGN §8: decided by evaluateProtection from everything the service knows */
  protection: Protection;
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
  /** 3-2-1: where its backups are (the target and each copy target), and what is missing (service/copies.ts) */
  copies: ThreeTwoOne;
}

export interface ServiceEvents {
  'job.state': JobStateEvent;
  'job.progress': JobProgress;
  'alert.raised': Alert;
  'alert.cleared': Alert;
  'alert.acknowledged': Alert;
  /**
   * a source was added, updated or removed, or its protection may have changed: a run failed or an alert
   * on it or its target opened or cleared (job events say the rest), backups were paused or resumed, the
   * service started, or the tick saw its protection change (time passing, a folder or disk coming and going)
   */
  'source.changed': { sourceId: string; removed: boolean };
  /** a watcher changed mode (native, polling, rescan-only, ...) */
  'watch.status': WatchStatus;
  /** a ransomware incident opened, grew, had its last clean snapshot held, or was resolved */
  'ransomware.incident': Incident;
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
  /** ransomware signals on the watched sources and the hold of their last clean snapshot (engine/signals) */
  readonly signals: RansomwareGuard;
  /** the file history (find, versions) takes in each backup after its job (history-catch-up.ts) */
  readonly fileHistory = new HistoryCatchUp((message) =>
    process.emitWarning(message, 'BulwarkServiceWarning'),
  );
  /** alerts by email and webhook, the ping after good backups (service/notify) */
  readonly notifications: NotificationCenter;
  /** snapshots, legal holds, retention policies and the upkeep jobs (forget, prune, lock check) */
  readonly retention: RetentionService;
  /** restore drills: per source on a schedule, or now (service/drills.ts) */
  readonly drills: ServiceDrills;
  /** 3-2-1: copies of each source's snapshots into its copy targets (service/copies.ts) */
  readonly copies: ServiceCopies;
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
  private readonly disk: DiskProbe;
  /** each source's protection (state and reasons) as last announced or seen by the tick: when it changed */
  private readonly lastProtection = new Map<string, string>();
  /** folder targets a tick found missing: when they are back, their sources are retried at once */
  private readonly targetsSeenMissing = new Set<string>();
  /** restore plans waiting for restore.start, by plan id (single use, PLAN_TTL_MS) */
  private readonly plans = new Map<string, { plan: RestorePlan; sourceId: string; at: number }>();
  private tickTimer: unknown;
  private state: 'new' | 'started' | 'stopping' | 'stopped' = 'new';

  constructor(opts: BackupServiceOptions) {
    if (!opts.paths && !opts.home)
      throw new BulwarkError('INVALID_ARGUMENT', 'the backup service needs a home folder (or paths)');
    this.opts = opts;
    this.paths = opts.paths ?? localPaths({ BULWARK_HOME: opts.home });
    this.clock = opts.clock ?? systemClock;
    this.timers = opts.timers ?? realTimers;
    this.disk = opts.disk ?? realDisk;
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
    this.drills = new ServiceDrills({
      catalog: this.catalog,
      clock: this.clock,
      config: this.config,
      jobs: this.jobs,
      alerts: this.alerts,
      repositoryFor: (sourceId, signal) => this.repositoryFor(sourceId, signal),
      scratchParent: join(this.paths.cacheDir, 'drills'),
    });
    this.copies = new ServiceCopies({
      catalog: this.catalog,
      clock: this.clock,
      config: this.config,
      jobs: this.jobs,
      alerts: this.alerts,
      disk: this.disk,
      repositoryFor: (sourceId, signal) => this.repositoryFor(sourceId, signal),
      repositoryForTarget: (targetId, signal) => this.repositoryForTarget(targetId, signal),
      tmpParent: join(this.paths.cacheDir, 'copies'),
      onChanged: (sourceId) => this.events.emit('source.changed', { sourceId, removed: false }),
    });
    this.retention = new RetentionService(
      {
        catalog: this.catalog,
        clock: this.clock,
        config: this.config,
        jobs: this.jobs,
        alerts: this.alerts,
        repositoryForTarget: (targetId, signal) => this.repositoryForTarget(targetId, signal),
      },
      opts.retention,
    );
    this.notifications = new NotificationCenter({
      secrets: fileNotifySecretStore(notifySecretsFile(this.paths)),
      ...opts.notify,
      catalog: this.catalog,
      clock: this.clock,
      alerts: this.alerts,
      timers: this.timers,
    });
    this.signals = new RansomwareGuard({
      catalog: this.catalog,
      clock: this.clock,
      source: (id) => {
        const s = this.config.findSource(id);
        return s && { id: s.id, name: s.name, paths: s.paths, key: sourceKey(s.id) };
      },
      repositoryFor: (id) => this.repositoryFor(id),
      raiseAlert: (sourceId, text, action) =>
        void this.alerts.raise({ kind: 'ransomware-suspected', sourceId, text, action }),
      clearAlert: (sourceId) => void this.alerts.clear('ransomware-suspected', { sourceId }),
      onIncident: (inc) => this.events.emit('ransomware.incident', inc),
      onError: (e, what) =>
        process.emitWarning(
          `ransomware signals: ${what} failed: ${e instanceof Error ? e.message : String(e)}`,
          'BulwarkServiceWarning',
        ),
    });
    this.jobs.on('job.state', (e) => this.events.emit('job.state', e));
    this.jobs.on('job.progress', (p) => this.events.emit('job.progress', p));
    this.alerts.on('alert.raised', (a) => {
      this.events.emit('alert.raised', a);
      this.alertChangedProtection(a);
    });
    this.alerts.on('alert.cleared', (a) => {
      this.events.emit('alert.cleared', a);
      this.alertChangedProtection(a);
    });
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
    this.notifications.start();
    // "automatic backups are not running" no longer applies
    this.sourcesChanged();
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
    await this.signals.whenIdle(); // a hold of a last clean snapshot under way finishes first
    await this.fileHistory.stop(); // before the catalog closes; the next find takes in what is left
    await this.notifications.stop();
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
   * Looks at every source and folder target: raises or clears source-missing (a folder gone or back),
   * target-unreachable for a folder target that is gone (and retries its sources once it is back), and
   * rpo-missed; when started, queues the rescans that are due; and announces (source.changed) a source
   * whose protection changed meanwhile. Runs on a timer; tests call it after moving a FakeClock.
   */
  tick(): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    const now = this.now();
    const sources = this.config.sources();
    this.checkFolderTargets(sources);
    for (const s of sources) {
      if (s.enabled) {
        this.checkSourceFolders(s);
        this.evaluateRpo(s, now);
        if (this.state === 'started' && !this.jobs.paused) {
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
      this.noticeProtectionChange(s);
    }
    if (this.state === 'started') this.retention.tick({ paused: this.jobs.paused });
    if (this.state === 'started' && !this.jobs.paused) this.drills.tick(now);
    if (this.state === 'started') this.copies.tick({ paused: this.jobs.paused });
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
    this.targetsSeenMissing.delete(id);
    for (const kind of TARGET_ALERT_KINDS) this.alerts.clear(kind, { targetId: id });
  }

  // ---- sources ---------------------------------------------------------------------------------------

  /** Adds a source. Without targetId: the only target, else the default one (created if needed). */
  async addSource(input: SourceInput): Promise<SourceStatus> {
    this.assertOpen();
    this.checkFolders(input.paths);
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

  /**
   * Changes a source. Its folders, when given, must be there now; `enabled: false` pauses this source alone
   * (its status says so at once), `enabled: true` resumes it.
   */
  async updateSource(id: string, input: SourceUpdate): Promise<SourceStatus> {
    this.assertOpen();
    this.config.source(id);
    if (input.paths !== undefined) this.checkFolders(input.paths);
    const s = this.config.updateSource(id, input);
    const w = this.watchers.get(id);
    if (w) {
      this.watchers.delete(id);
      await w.stop();
    }
    // A paused source is not watched or checked: what those alerts said no longer applies.
    if (!s.enabled)
      for (const kind of ['rpo-missed', 'watch-degraded', 'source-missing'] as const)
        this.alerts.clear(kind, { sourceId: id });
    else this.checkSourceFolders(s);
    this.copies.sourceUpdated(s);
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
    this.signals.forget(id);
    this.copies.sourceRemoved(id);
    for (const a of this.alerts.list({ active: true, sourceId: id }))
      this.alerts.clear(a.kind, { sourceId: id });
    this.lastProtection.delete(id);
    this.events.emit('source.changed', { sourceId: id, removed: true });
  }

  getSource(id: string): SourceStatus {
    return this.sourceStatus(this.config.source(id));
  }

  listSources(): SourceStatus[] {
    return this.config.sources().map((s) => this.sourceStatus(s));
  }

  /** The answer at the top of every page, from the sources' statuses (listSources() when not given). */
  overallProtection(statuses: readonly SourceStatus[] = this.listSources()): OverallProtection {
    return overallProtection(
      statuses.map((s) => ({
        name: s.name,
        enabled: s.enabled,
        lastSuccessAt: s.lastSuccessAt,
        protection: s.protection,
      })),
    );
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
    this.sourcesChanged(); // every source is at risk now: "backups are paused"
  }

  resumeAll(): void {
    this.jobs.resumeAll();
    this.sourcesChanged();
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

  /** Resolves once no job is queued or running, and the file history took in every backup made. */
  async whenIdle(): Promise<void> {
    await this.jobs.whenIdle();
    await this.fileHistory.whenIdle();
  }

  /** Runs recorded in the catalog, newest first (earlier processes included). */
  history(opts: { sourceId?: string; limit?: number } = {}): RunHistoryEntry[] {
    return this.jobs.history(opts);
  }

  // ---- restores -------------------------------------------------------------------------------------

  /**
   * The repository a source backs up into, unlocked (opened once, then reused). Used to read it: a failure
   * here raises no alert (backups say when a target cannot be used).
   */
  async repositoryFor(sourceId: string, signal?: AbortSignal): Promise<Repository> {
    this.assertOpen();
    const s = this.config.source(sourceId);
    return this.openTarget(this.config.target(s.targetId), signal);
  }

  /** A target's repository, unlocked (opened once, then reused): e.g. to rebuild the catalog from it. */
  async repositoryForTarget(targetId: string, signal?: AbortSignal): Promise<Repository> {
    this.assertOpen();
    return this.openTarget(this.config.target(targetId), signal);
  }

  /**
   * A snapshot the service made of a source, with its repository. A snapshot made meanwhile by another
   * process (or not yet in this catalog) is found by reading the repository's list once.
   */
  async sourceSnapshot(
    sourceId: string,
    snapshotId: string,
    signal?: AbortSignal,
  ): Promise<{ repo: Repository; snapshot: SnapshotManifest }> {
    const repo = await this.repositoryFor(sourceId, signal);
    const key = sourceKey(sourceId);
    const find = (): SnapshotManifest | undefined =>
      repo.catalog.snapshots(repo.rid).find((m) => m.id === snapshotId && m.source === key);
    let snapshot = find();
    if (!snapshot) {
      await repo.syncSnapshots(signal);
      snapshot = find();
    }
    if (!snapshot)
      throw new BulwarkError(
        'NOT_FOUND',
        `there is no backup ${snapshotId} of ${this.config.source(sourceId).name}`,
      );
    return { repo, snapshot };
  }

  /**
   * Plans a restore of files or folders of one of a source's snapshots (ops/restore-plan.ts) and keeps the
   * plan for restore.start under a new id. Nothing is written.
   */
  async planRestore(req: {
    sourceId: string;
    snapshotId: string;
    paths: string[];
    destination: RestoreDestination;
    signal?: AbortSignal;
  }): Promise<{ planId: string; plan: RestorePlan }> {
    const { repo, snapshot } = await this.sourceSnapshot(req.sourceId, req.snapshotId, req.signal);
    const plan = await planRestore(repo, {
      snapshot: snapshot.id,
      paths: req.paths,
      destination: req.destination,
      clock: this.clock,
      ...(req.signal ? { signal: req.signal } : {}),
    });
    this.dropOldPlans();
    while (this.plans.size >= MAX_PLANS) {
      const oldest = this.plans.keys().next().value;
      if (oldest === undefined) break;
      this.plans.delete(oldest);
    }
    const planId = randomUUID();
    this.plans.set(planId, { plan, sourceId: req.sourceId, at: this.now() });
    return { planId, plan };
  }

  /**
   * Carries out a plan as a restore job, started at once (never queued behind backups: it only reads the
   * repository). A plan is used once; an unknown or expired one is NOT_FOUND. A file that appeared or
   * changed at a destination since the plan is a conflict under `onConflict` (never overwritten silently).
   */
  startRestore(planId: string, onConflict: ConflictPolicy): JobInfo {
    this.assertOpen();
    this.dropOldPlans();
    const held = this.plans.get(planId);
    if (!held)
      throw new BulwarkError(
        'NOT_FOUND',
        'this restore plan is no longer available (plans are kept 15 minutes and used once): review the restore again',
      );
    this.plans.delete(planId);
    const s = this.config.source(held.sourceId);
    return this.jobs.startNow({
      kind: 'restore',
      sourceId: s.id,
      targetId: s.targetId,
      reason: 'manual',
      run: async (_job, ctx) => ({
        restore: await this.runRestore(held.sourceId, held.plan, onConflict, ctx.signal, ctx.onProgress),
      }),
    });
  }

  private dropOldPlans(): void {
    const now = this.now();
    for (const [id, p] of this.plans) if (now - p.at > PLAN_TTL_MS) this.plans.delete(id);
  }

  private async runRestore(
    sourceId: string,
    plan: RestorePlan,
    onConflict: ConflictPolicy,
    signal: AbortSignal,
    onProgress: (p: RunnerProgress) => void,
  ): Promise<RestoreJobSummary> {
    const repo = await this.repositoryFor(sourceId, signal);
    const r = await runRestorePlan(repo, plan, {
      onConflict,
      signal,
      actor: 'service',
      clock: this.clock,
      onProgress: (p) =>
        onProgress({
          phase: 'restoring',
          filesDone: p.filesDone,
          filesTotal: p.filesTotal,
          bytesDone: p.bytesDone,
          bytesTotal: p.bytesTotal,
          rate: p.rate ?? 0,
          ...(p.etaSeconds !== undefined ? { etaSeconds: p.etaSeconds } : {}),
          ...(p.currentPath !== undefined ? { currentPath: p.currentPath } : {}),
        }),
    });
    return {
      restored: r.files + r.links,
      skipped: r.identical + r.skipped,
      failed: r.errors.length,
      bytes: r.bytes,
      keptBoth: r.keptBoth,
      failures: r.errors.slice(0, MAX_RESTORE_FAILURES),
      destination: r.destination,
    };
  }

  // ---- ransomware signals ----------------------------------------------------------------------------

  /** Per source: its open ransomware incident, its last clean snapshot and its decoy files. */
  listSignals(sourceId?: string): SourceSignals[] {
    const ids =
      sourceId !== undefined ? [this.config.source(sourceId).id] : this.config.sources().map((s) => s.id);
    return this.signals.list(ids);
  }

  /** "This was me" or "handled": clears the source's ransomware alert (prune may run again). */
  async resolveSignal(sourceId: string, resolution: Resolution): Promise<Incident> {
    this.assertOpen();
    this.config.source(sourceId);
    return this.signals.resolve(sourceId, resolution);
  }

  /** Opts a source in or out of decoy files; its watcher follows the new ones at once. */
  setCanaries(sourceId: string, enabled: boolean): string[] {
    this.assertOpen();
    this.config.source(sourceId);
    return this.signals.setCanaries(sourceId, enabled);
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

  /**
   * rpo-missed when the last good backup is older than the source's limit; not raised (nor refreshed)
   * while the cause is already an open alert (its folder missing, its target unreachable, damaged or
   * stopped by a broken lock): one cause, one alert.
   */
  private evaluateRpo(s: Source, now: number): void {
    if (this.rpoState(s, now) !== 'missed') {
      this.alerts.clear('rpo-missed', { sourceId: s.id });
      return;
    }
    if (this.causeIsOpen(s)) return;
    const age = s.lastSuccessAt === null ? undefined : now - s.lastSuccessAt;
    const limit = humanDuration(s.rpoMinutes * MINUTE);
    this.alerts.raise({
      kind: 'rpo-missed',
      sourceId: s.id,
      targetId: s.targetId,
      text:
        age === undefined
          ? `${s.name} has not been backed up yet, ${humanDuration(now - s.createdAt)} after it was added ` +
            `(it should be backed up at least every ${limit}). Its files are not protected.`
          : `${s.name} was last backed up ${humanDuration(age)} ago (it should be backed up at least every ${limit}). ` +
            'Changes since then are not protected.',
    });
  }

  /** An open alert that already names why this source is not being backed up. */
  private causeIsOpen(s: Source): boolean {
    return (
      this.alerts.open('source-missing', { sourceId: s.id }) !== undefined ||
      BLOCKING_TARGET_ALERTS.some((kind) => this.alerts.open(kind, { targetId: s.targetId }) !== undefined)
    );
  }

  /** The open alerts of a target that bear on its sources' protection. */
  private targetAlerts(targetId: string): TargetAlertKind[] {
    const kinds = new Set<string>(
      this.alerts.list({ active: true, targetId }).flatMap((a) => (a.sourceId === null ? [a.kind] : [])),
    );
    return TARGET_ALERT_KINDS.filter((k) => kinds.has(k));
  }

  private sourceStatus(s: Source): SourceStatus {
    const now = this.now();
    const t = this.config.findTarget(s.targetId);
    const runs = this.jobs.history({ sourceId: s.id, limit: 20 });
    const last = runs[0];
    // canceled and interrupted runs say nothing about whether backups work
    const outcome = runs.find((r) => r.state === 'succeeded' || r.state === 'failed')?.state ?? null;
    const active = this.jobs.activeFor(s.id);
    const rpoState = this.rpoState(s, now);
    const protection = evaluateProtection({
      now,
      source: s,
      lastOutcome: outcome === 'succeeded' || outcome === 'failed' ? outcome : null,
      service: { started: this.state === 'started', paused: this.jobs.paused },
      missingPaths: missingFolders(s.paths, this.disk),
      ransomwareSuspected: this.alerts
        .list({ active: true, sourceId: s.id })
        .some((a) => a.kind === 'ransomware-suspected'),
      target: t
        ? {
            name: t.name,
            kind: t.kind,
            present: t.kind !== 'fs' || this.disk.stat(t.location).kind !== 'missing',
            locked: t.lock !== null,
            sameDisk: t.kind === 'fs' && sameDisk(t.location, s.paths, this.disk),
            alerts: this.targetAlerts(t.id),
          }
        : null,
    });
    return {
      ...s,
      target: t ? { id: t.id, name: t.name, location: t.location, kind: t.kind } : null,
      protected: protection.state === 'protected',
      protection,
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
      copies: this.copies.status(s, now),
    };
  }

  // ---- what the tick and the events check ------------------------------------------------------------

  /** Refuses, in plain words, a folder that is not there, a file, or a path of another system. */
  private checkFolders(paths: unknown): void {
    // the shape is the config's to check (validate); only real strings are looked at here
    if (!Array.isArray(paths)) return;
    for (const p of paths) if (typeof p === 'string') checkFolder(p, this.disk);
  }

  /**
   * source-missing while one of its folders is not there; cleared once it is back, and then the source is
   * backed up at once if its last run failed (instead of waiting for the retry backoff).
   */
  private checkSourceFolders(s: Source): void {
    const missing = missingFolders(s.paths, this.disk);
    if (missing.length > 0) {
      if (this.alerts.open('source-missing', { sourceId: s.id })) return; // seen already: not every tick
      this.alerts.raise({ kind: 'source-missing', sourceId: s.id, text: sourceMissingText(s, missing) });
      return;
    }
    if (this.alerts.clear('source-missing', { sourceId: s.id }).length > 0) this.retrySoon(s);
  }

  /**
   * A folder target whose folder is gone (the NAS is off, the disk unplugged) is unreachable now, not at
   * the next failed run; when a tick finds it back (its repository's config is there), its sources are
   * retried at once, and their successful runs clear the alert.
   */
  private checkFolderTargets(sources: readonly Source[]): void {
    for (const t of this.config.targets()) {
      if (t.kind !== 'fs') continue;
      const users = sources.filter((s) => s.enabled && s.targetId === t.id);
      if (users.length === 0) continue;
      if (this.disk.stat(t.location).kind === 'missing') {
        this.targetsSeenMissing.add(t.id);
        if (!this.alerts.open('target-unreachable', { targetId: t.id }))
          this.alerts.raise({
            kind: 'target-unreachable',
            targetId: t.id,
            text: this.unreachableText(t, 'gone'),
          });
        continue;
      }
      if (!this.targetsSeenMissing.has(t.id)) continue;
      if (this.disk.stat(join(t.location, 'config')).kind !== 'file') continue;
      this.targetsSeenMissing.delete(t.id);
      for (const s of users) this.retrySoon(s);
    }
  }

  /** Queues a retry now (the cause of the failures is gone), unless paused, stopped or one is on its way. */
  private retrySoon(s: Source): void {
    if (this.state !== 'started' || this.jobs.paused || !s.enabled) return;
    const active = this.jobs.activeFor(s.id);
    if (active.running || active.queued) return;
    if (this.lastRun(s.id)?.state === 'succeeded') return;
    this.enqueue(s, 'retry', 0);
  }

  private protectionKey(s: Source): string {
    const p = this.sourceStatus(s).protection;
    return `${p.state}:${p.reasons.map((r) => r.code).join(',')}`;
  }

  /** Emits source.changed when the tick sees a source's protection change (time passing, a disk). */
  private noticeProtectionChange(s: Source): void {
    const key = this.protectionKey(s);
    const before = this.lastProtection.get(s.id);
    this.lastProtection.set(s.id, key);
    if (before !== undefined && before !== key)
      this.events.emit('source.changed', { sourceId: s.id, removed: false });
  }

  /** Emits source.changed, noting what it announced so the next tick does not announce it again. */
  private announce(sourceId: string): void {
    const s = this.config.findSource(sourceId);
    if (!s) return; // being removed: its own event says so
    this.lastProtection.set(s.id, this.protectionKey(s));
    this.events.emit('source.changed', { sourceId, removed: false });
  }

  /** Every source may have changed (paused, resumed, started). */
  private sourcesChanged(): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    for (const s of this.config.sources()) this.announce(s.id);
  }

  /** An alert on a source, or on the target of some sources, changes what their status says. */
  private alertChangedProtection(a: Alert): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    const ids =
      a.sourceId !== null
        ? [a.sourceId]
        : a.targetId !== null
          ? this.config
              .sources()
              .filter((s) => s.targetId === a.targetId)
              .map((s) => s.id)
          : [];
    for (const sourceId of ids) this.announce(sourceId);
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
        onEvent: (event, path) => this.observeFileEvent(s.id, event, path),
        onBatch: (b) => {
          this.signals.batchDone(s.id);
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

  /** A watcher event for the ransomware detectors; their failure never stops the watcher (it is reported). */
  private observeFileEvent(sourceId: string, event: string, path: string): void {
    if (!isFileEvent(event)) return;
    try {
      this.signals.observe(sourceId, event, path);
    } catch (e) {
      process.emitWarning(
        `ransomware signals: a file event of ${path} could not be checked: ${e instanceof Error ? e.message : String(e)}`,
        'BulwarkServiceWarning',
      );
    }
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
    // A folder that is not there is its own alert (what to do differs: reconnect it, not raise a limit).
    if (st.missingRoots.length > 0) {
      this.alerts.clear('watch-degraded', { sourceId });
      this.checkSourceFolders(s);
      return;
    }
    const text =
      st.mode === 'polling'
        ? `Bulwark cannot be told about changes in ${s.name} as they happen, so it checks the folder every few ` +
          'seconds instead. Changes are still backed up.'
        : `Bulwark cannot watch ${s.name} for changes, so it looks through the whole folder every ` +
          `${humanDuration(this.rescanMs(s))} instead. Changes are still backed up, only later.`;
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
      // A good run proves every cause that stops backups is gone: the folder is there, the target
      // reachable, its settings trusted and what the backup read of it intact.
      this.alerts.clear('backup-failed', { sourceId: s.id });
      this.alerts.clear('source-missing', { sourceId: s.id });
      for (const kind of BLOCKING_TARGET_ALERTS) this.alerts.clear(kind, { targetId: t.id });
      this.targetsSeenMissing.delete(t.id);
      this.raiseTampering(t, repo);
      this.signals.afterBackup(s.id, repo, snap); // the entropy check: encrypted files no longer compress
      this.fileHistory.after(repo, snap); // once this job has ended (find, versions)
      // Retention by the source's policy, as a job of its own behind this one (a failure there is its own).
      if (this.state === 'started') this.retention.afterBackup(s, repo);
      // 3-2-1: each copy target gets its own copy job behind this one (one failing never blocks another).
      if (this.state === 'started') this.copies.afterBackup(this.config.findSource(s.id) ?? s);
      const fresh = this.config.findSource(s.id);
      if (fresh) this.evaluateRpo(fresh, this.now());
      this.notifications.backupSucceeded();
      // the target and its size after the run: the storage history of the target (stats.storage)
      return {
        snapshotId: snap.id,
        stats: { ...snap.stats, targetId: t.id, repositoryBytes: repositoryBytes(repo) },
      };
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
        `Someone with this computer's storage keys changed or hid ${names.length === 1 ? 'a backup file' : `${names.length} backup files`} ` +
        `on ${t.name} (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}). Your backups are not affected: ` +
        'the originals are locked and still used.',
    });
  }

  /**
   * One alert for one cause, worded for what happened: the target (unreachable, damaged, its settings
   * replaced) is alerted once for all its sources; a folder that is not there is source-missing; anything
   * else is the source's backup-failed. The engine's hints are for the command line, so they are not used.
   */
  private raiseFailure(s: Source, t: Target, e: unknown, phase: 'open' | 'backup'): void {
    const err = toJobError(e);
    const who = this.sourcesOf(t);
    if (err.code === 'LOCK_INVARIANT_BROKEN') {
      this.alerts.raise({
        kind: 'lock-invariant-broken',
        targetId: t.id,
        text:
          `Backups to ${targetLabel(t)} are stopped: the backup settings stored there were replaced by someone ` +
          `holding this computer's storage keys. ${who} ${who.includes(' and ') ? 'are' : 'is'} not being backed up there.`,
      });
    } else if (err.code === 'CORRUPT' || err.code === 'REPO_DAMAGED') {
      this.alerts.raise({
        kind: 'repository-damaged',
        targetId: t.id,
        text:
          `Some backup files on ${targetLabel(t)} are damaged, so ${who} ${who.includes(' and ') ? 'are' : 'is'} ` +
          'not being backed up there.',
      });
    } else if (phase === 'open' || this.isTargetError(e)) {
      const cause: UnreachableCause =
        t.kind === 'fs' && this.folderLooksDisconnected(t.location)
          ? 'gone'
          : err.code === 'REPO_NOT_FOUND'
            ? 'replaced'
            : err.code === 'NETWORK'
              ? 'network'
              : err.code === 'PERMISSION'
                ? 'permission'
                : err.code === 'WRONG_PASSWORD'
                  ? 'password'
                  : err.code === 'NO_SPACE'
                    ? 'full'
                    : 'other';
      if (cause === 'gone') this.targetsSeenMissing.add(t.id);
      // What the server said helps whoever looks after it; for a folder that is gone it would only confuse
      // (the engine's wording is for the command line).
      const details = cause === 'network' || cause === 'other' ? ` Details: ${err.message}.` : '';
      this.alerts.raise({
        kind: 'target-unreachable',
        targetId: t.id,
        text: this.unreachableText(t, cause) + details,
        ...(UNREACHABLE_ACTION[cause] ? { action: UNREACHABLE_ACTION[cause] } : {}),
      });
    } else {
      const missing = missingFolders(s.paths, this.disk);
      if (missing.length > 0) {
        this.alerts.raise({ kind: 'source-missing', sourceId: s.id, text: sourceMissingText(s, missing) });
        return;
      }
      const failed = backupFailure(s, err);
      this.alerts.raise({ kind: 'backup-failed', sourceId: s.id, ...failed });
    }
  }

  /**
   * A folder target that is not there, or an empty folder where the repository was: what an unplugged disk
   * or an unmounted share (its mount point left behind) looks like.
   */
  private folderLooksDisconnected(location: string): boolean {
    const entry = this.disk.stat(location);
    if (entry.kind === 'missing') return true;
    if (entry.kind !== 'dir') return false;
    try {
      return readdirSync(location).length === 0;
    } catch {
      return false; // cannot look inside: the error the run met says more than a guess here
    }
  }

  /** "Office", "Office and Accounts", "Office, Accounts and 2 more": the enabled sources backed up to `t`. */
  private sourcesOf(t: Target): string {
    const names = this.config
      .sources()
      .filter((x) => x.targetId === t.id && x.enabled)
      .map((x) => x.name);
    if (names.length === 0) return 'nothing';
    if (names.length === 1) return names[0] ?? '';
    if (names.length <= 3) return `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''}`;
    return `${names.slice(0, 2).join(', ')} and ${names.length - 2} more`;
  }

  private unreachableText(t: Target, cause: UnreachableCause): string {
    const who = this.sourcesOf(t);
    const notBackedUp = `so ${who} ${who.includes(' and ') ? 'are' : 'is'} not being backed up`;
    const where = targetLabel(t);
    switch (cause) {
      case 'gone':
        return (
          `${capitalize(where)} cannot be found, ${notBackedUp}. The disk or network share (NAS) it is on is ` +
          'probably disconnected, switched off or not connected to this computer.'
        );
      case 'replaced':
        return (
          `${capitalize(where)} no longer holds this computer's backups, ${notBackedUp}. Perhaps another disk is ` +
          'connected in its place, or the folder was emptied or moved.'
        );
      case 'network':
        return `${capitalize(where)} cannot be reached over the network, ${notBackedUp}.`;
      case 'permission':
        return `${capitalize(where)} refused access to this computer, ${notBackedUp}.`;
      case 'password':
        return `The password kept for ${where} no longer opens its backups, ${notBackedUp}.`;
      case 'full':
        return `${capitalize(where)} is full, ${notBackedUp}.`;
      case 'other':
        return `${capitalize(where)} cannot be used right now, ${notBackedUp}.`;
    }
  }
}

type UnreachableCause = 'gone' | 'replaced' | 'network' | 'permission' | 'password' | 'full' | 'other';

/** What to do per cause (the kind's default says "reconnect it", right for 'gone' and 'other'). */
const UNREACHABLE_ACTION: Readonly<Record<UnreachableCause, string | undefined>> = {
  gone: undefined,
  other: undefined,
  network:
    "Check this computer's network or internet connection, and that the storage service works: a NAS or " +
    'server may be switched off, frozen, overloaded or asleep (its web page, or a restart, tells). Backups ' +
    'resume by themselves once it answers; the backups already there are safe.',
  replaced:
    'Connect the disk or share that holds the backups. If they were deleted or moved, ask your IT contact ' +
    'before changing anything on the Targets page: nothing is lost yet on this computer.',
  permission:
    'The access keys or permissions of this destination were changed or withdrawn. Ask whoever manages the ' +
    'storage for the current ones and enter them on the Targets page.',
  password: 'Enter the current password of this destination on the Targets page (ask whoever set it up).',
  full:
    'Free up space on it, or choose a bigger backup destination on the Targets page. Nothing ' +
    'already backed up was lost.',
};

/** "the backup folder /mnt/nas/bulwark", "NAS (/mnt/nas/bulwark)", "the storage bucket office/pc1", "Wasabi" */
function targetLabel(t: Target): string {
  if (t.kind === 's3')
    return t.name === t.location ? `the storage bucket ${t.location.replace(/^s3:\/\//, '')}` : t.name;
  return t.name === t.location ? `the backup folder ${t.location}` : `${t.name} (${t.location})`;
}

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

function sourceMissingText(s: Source, missing: readonly string[]): string {
  const which =
    missing.length === 1
      ? `The folder ${missing[0] ?? ''}`
      : `${missing.length} of the folders (${missing.join(', ')})`;
  return (
    `${which} of ${s.name} cannot be found, so it is not being backed up. It was moved or renamed, or the ` +
    'disk or network share it is on is disconnected.'
  );
}

/** A source-side failure in plain words, with what to do when the default advice does not fit. */
function backupFailure(s: Source, err: { code: string; message: string }): { text: string; action?: string } {
  switch (err.code) {
    case 'PERMISSION':
      return {
        text: `Bulwark was not allowed to read some files of ${s.name}, so its backup failed.`,
        action:
          'Give the account that runs Bulwark access to the folder (on a Mac: System Settings → Privacy & Security → ' +
          'Full Disk Access), then choose "Back up now" on the Sources page.',
      };
    case 'NO_SPACE':
      return {
        text: `This computer ran out of disk space while backing up ${s.name}.`,
        action: "Free up space on this computer's disk; Bulwark tries again by itself.",
      };
    default:
      return { text: `The backup of ${s.name} failed: ${err.message.replace(/^[A-Z_]+: /, '')}.` };
  }
}

/** Creates the service (opens its catalog; a run a crash left 'running' becomes 'interrupted'). */
export function createBackupService(opts: BackupServiceOptions): BackupService {
  return new BackupService(opts);
}

const FILE_EVENTS: ReadonlySet<string> = new Set(['add', 'change', 'unlink', 'addDir', 'unlinkDir']);
const isFileEvent = (e: string): e is FileEvent => FILE_EVENTS.has(e);
