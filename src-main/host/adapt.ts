import type { EventOf } from '../contract/ipc.ts';
import type {
  Alert,
  AlertKind,
  AlertSeverity,
  CopyMedium,
  OverallProtection,
  Page,
  Protection,
  ProtectionReason,
  ProtectionState,
  Job,
  RestoreSummary,
  JobPhase,
  JobProgress,
  JobReason,
  JobState,
  RpoState,
  RunState,
  RunSummary,
  SourceStatus,
  Target,
  ThreeTwoOne,
  WatchMode,
} from '../contract/model.ts';
import type { ResultError } from '../contract/result.ts';
import { sourceKey } from '../engine/service/index.ts';
import type * as engine from '../engine/service/index.ts';

/**
 * The engine's service values → the contract's (plain JSON, ISO times, the contract's enums). Every enum is
 * mapped by an exhaustive switch: a state the engine adds later is a compile error here, not a value the
 * renderer's schema drops at run time.
 */

type EngineRunState = engine.RunHistoryEntry['state'];

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrUndefined = (ms: number | null | undefined): string | undefined =>
  ms === null || ms === undefined ? undefined : iso(ms);

/** Omits the keys whose value is undefined (the contract's optional fields are absent, not undefined). */
function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function unreachable(value: never, what: string): never {
  throw new Error(`unmapped ${what}: ${String(value)}`);
}

/**
 * CANCELED is split by why: a person (or removing the source) cancels; a shutdown or a pause interrupts
 * (the job continues on the next start or on resume, as the runs table records it).
 */
export function jobState(state: engine.JobState, cancelReason: engine.CancelReason | null): JobState {
  switch (state) {
    case 'QUEUED':
      return 'queued';
    case 'RUNNING':
      return 'running';
    case 'CANCELING':
      return 'canceling';
    case 'SUCCEEDED':
      return 'succeeded';
    case 'FAILED':
      return 'failed';
    case 'CANCELED':
      return cancelReason === 'shutdown' || cancelReason === 'pause' ? 'interrupted' : 'canceled';
    default:
      return unreachable(state, 'job state');
  }
}

export function jobPhase(phase: engine.JobProgress['phase']): JobPhase {
  switch (phase) {
    case 'scanning':
      return 'scanning';
    case 'uploading':
      return 'backing-up';
    case 'committing':
      return 'finalizing';
    case 'restoring':
      return 'restoring';
    default:
      return unreachable(phase, 'job phase');
  }
}

export function jobReason(reason: engine.JobReason): JobReason {
  switch (reason) {
    case 'manual':
    case 'watch':
    case 'rescan':
    case 'retry':
    case 'resume':
      return reason;
    default:
      return unreachable(reason, 'job reason');
  }
}

export function runState(state: EngineRunState): RunState {
  switch (state) {
    case 'running':
    case 'succeeded':
    case 'failed':
    case 'canceled':
    case 'interrupted':
      return state;
    default:
      return unreachable(state, 'run state');
  }
}

export function rpoState(state: engine.RpoState): RpoState {
  switch (state) {
    case 'ok':
    case 'pending':
    case 'missed':
      return state;
    default:
      return unreachable(state, 'RPO state');
  }
}

export function watchMode(mode: engine.WatchMode): WatchMode {
  switch (mode) {
    case 'starting':
      return 'starting';
    case 'native':
      return 'live';
    case 'polling':
      return 'polling';
    case 'rescan-only':
      return 'rescan-only';
    case 'idle':
    case 'stopped':
      return 'off';
    default:
      return unreachable(mode, 'watch mode');
  }
}

export function alertKind(kind: engine.AlertKind): AlertKind {
  switch (kind) {
    case 'backup-failed':
    case 'rpo-missed':
    case 'target-unreachable':
    case 'selftest-failed':
    case 'lock-invariant-broken':
    case 'repository-damaged':
    case 'repository-tampered':
    case 'watch-degraded':
    case 'source-missing':
    case 'locks-short':
    case 'ransomware-suspected':
    case 'drill-failed':
    case 'copy-behind':
      return kind;
    default:
      return unreachable(kind, 'alert kind');
  }
}

export function page(p: engine.Page): Page {
  switch (p) {
    case 'overview':
    case 'restore':
    case 'sources':
    case 'snapshots':
    case 'targets':
    case 'alerts':
    case 'settings':
      return p;
    default:
      return unreachable(p, 'page');
  }
}

const fixLink = (f: engine.FixLink): { page: Page; label: string } => ({
  page: page(f.page),
  label: f.label,
});

export function protectionState(state: engine.ProtectionState): ProtectionState {
  switch (state) {
    case 'protected':
    case 'at-risk':
    case 'not-protected':
      return state;
    default:
      return unreachable(state, 'protection state');
  }
}

export function protectionReasonCode(code: engine.ProtectionReasonCode): ProtectionReason['code'] {
  switch (code) {
    case 'never-backed-up':
    case 'last-backup-failed':
    case 'rpo-missed':
    case 'paused':
    case 'source-disabled':
    case 'service-stopped':
    case 'source-missing':
    case 'target-missing':
    case 'target-unreachable':
    case 'target-not-immutable':
    case 'same-disk':
    case 'lock-invariant-broken':
    case 'repository-damaged':
    case 'repository-tampered':
    case 'locks-short':
    case 'ransomware-suspected':
      return code;
    default:
      return unreachable(code, 'protection reason');
  }
}

/** The engine's decision as is (DESIGN §8: decided once, on the main side). */
export function protection(p: engine.Protection): Protection {
  return {
    state: protectionState(p.state),
    summary: p.summary,
    reasons: p.reasons.map((r) =>
      compact({
        code: protectionReasonCode(r.code),
        text: r.text,
        fix: r.fix ? fixLink(r.fix) : undefined,
      }),
    ),
  };
}

export function overall(o: engine.OverallProtection): OverallProtection {
  return compact({
    state: protectionState(o.state),
    headline: o.headline,
    lastBackupAt: isoOrUndefined(o.lastBackupAt),
    counts: { ...o.counts },
  });
}

export function alertSeverity(severity: engine.AlertSeverity): AlertSeverity {
  switch (severity) {
    case 'info':
    case 'warning':
    case 'error':
    case 'critical':
      return severity;
    default:
      return unreachable(severity, 'alert severity');
  }
}

function jobError(e: engine.JobError | null): ResultError | undefined {
  if (!e) return undefined;
  return e.hint === undefined
    ? { code: e.code, message: e.message }
    : { code: e.code, message: e.message, hint: e.hint };
}

export function progress(p: engine.JobProgress): JobProgress {
  // Totals grow while the scan runs: they are only worth showing (and an ETA only computable) once it is done.
  return compact({
    jobId: p.jobId,
    sourceId: p.sourceId,
    phase: jobPhase(p.phase),
    bytesDone: p.bytesDone,
    bytesTotal: p.scanDone ? Math.max(p.bytesTotal, p.bytesDone) : undefined,
    filesDone: p.filesDone,
    filesTotal: p.scanDone ? Math.max(p.filesTotal, p.filesDone) : undefined,
    rate: Number.isFinite(p.rate) ? Math.max(0, p.rate) : 0,
    etaSeconds:
      p.etaSeconds !== undefined && Number.isFinite(p.etaSeconds) ? Math.max(0, p.etaSeconds) : undefined,
    currentPath: p.currentPath,
    // a restore stores nothing
    bytesAdded: p.phase === 'restoring' ? undefined : p.bytesAdded,
  });
}

/** At most this many failures travel with a job (the rest are counted in `failed`). */
const MAX_FAILURES = 1000;

export function restoreSummary(r: engine.RestoreJobSummary): RestoreSummary {
  return {
    restored: r.restored,
    skipped: r.skipped,
    failed: r.failed,
    bytes: r.bytes,
    keptBoth: r.keptBoth,
    failures: r.failures.slice(0, MAX_FAILURES).map((f) => ({ path: f.path, message: f.message })),
    destination: r.destination,
  };
}

export function job(j: engine.JobInfo): Job {
  return compact({
    id: j.id,
    kind: j.kind,
    sourceId: j.sourceId,
    targetId: j.targetId ?? undefined,
    reason: jobReason(j.reason),
    state: jobState(j.state, j.cancelReason),
    changes: j.changes,
    queuedAt: iso(j.queuedAt),
    startedAt: isoOrUndefined(j.startedAt),
    finishedAt: isoOrUndefined(j.finishedAt),
    snapshotId: j.snapshotId ?? undefined,
    error: jobError(j.error),
    progress:
      j.progress && (j.state === 'RUNNING' || j.state === 'CANCELING') ? progress(j.progress) : undefined,
    restore: j.restore ? restoreSummary(j.restore) : undefined,
  });
}

export function jobStateEvent(e: engine.JobStateEvent): EventOf<'bulwark:job.state'> {
  const j = e.job;
  return compact({
    jobId: j.id,
    kind: j.kind,
    state: jobState(j.state, j.cancelReason),
    at: iso(e.at),
    error: jobError(j.error),
    sourceId: j.sourceId,
    reason: jobReason(j.reason),
    snapshotId: j.snapshotId ?? undefined,
  });
}

const nonNegativeInt = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;

/** The run's stats as the job manager records them: `{reason, changes, snapshot?: engine stats}`. */
function runStats(stats: unknown): Pick<RunSummary, 'reason' | 'files' | 'filesChanged' | 'bytesAdded'> {
  if (typeof stats !== 'object' || stats === null) return {};
  const s = stats as { reason?: unknown; snapshot?: unknown };
  const reasons: readonly string[] = ['manual', 'watch', 'rescan', 'retry', 'resume'];
  const snap = (typeof s.snapshot === 'object' && s.snapshot !== null ? s.snapshot : {}) as Record<
    string,
    unknown
  >;
  const filesNew = nonNegativeInt(snap.filesNew);
  const filesChanged = nonNegativeInt(snap.filesChanged);
  return compact({
    reason:
      typeof s.reason === 'string' && reasons.includes(s.reason)
        ? jobReason(s.reason as engine.JobReason)
        : undefined,
    files: nonNegativeInt(snap.files),
    filesChanged:
      filesNew !== undefined || filesChanged !== undefined
        ? (filesNew ?? 0) + (filesChanged ?? 0)
        : undefined,
    bytesAdded: nonNegativeInt(snap.bytesAdded),
  });
}

export function run(r: engine.RunHistoryEntry): RunSummary {
  return compact({
    runId: r.runId,
    sourceId: r.sourceId ?? undefined,
    state: runState(r.state),
    startedAt: iso(r.startedAt),
    finishedAt: isoOrUndefined(r.finishedAt),
    snapshotId: r.snapshotId ?? undefined,
    error: r.error ?? undefined,
    ...runStats(r.stats),
  });
}

export function target(t: engine.Target): Target {
  return compact({
    id: t.id,
    name: t.name,
    kind: t.kind,
    location: t.location,
    endpoint: t.endpoint ?? undefined,
    region: t.region ?? undefined,
    isDefault: t.isDefault,
    bytesPerSecond: t.bytesPerSecond ?? undefined,
    immutability: t.lock ? 'object-lock' : t.kind === 'fs' ? 'worm-folder' : 'none',
    lock: t.lock ? { mode: t.lock.mode, days: t.lock.days } : undefined,
    repositoryId: t.repoId ?? undefined,
    createdAt: iso(t.createdAt),
  } satisfies Target);
}

export function sourceStatus(s: engine.SourceStatus): SourceStatus {
  const watch = s.watch;
  return compact({
    id: s.id,
    name: s.name,
    paths: [...s.paths],
    include: [...s.include],
    exclude: [...s.exclude],
    targetId: s.targetId,
    rpoMinutes: s.rpoMinutes,
    quietSeconds: s.quietSeconds,
    rescanMinutes: s.rescanMinutes,
    enabled: s.enabled,
    drillEveryDays: s.drillEveryDays,
    rtoMinutes: s.rtoMinutes,
    copyTargetIds: [...s.copyTargetIds],
    createdAt: iso(s.createdAt),
    target: s.target
      ? { id: s.target.id, name: s.target.name, kind: s.target.kind, location: s.target.location }
      : undefined,
    protected: s.protection.state === 'protected',
    protection: protection(s.protection),
    rpoState: rpoState(s.rpoState),
    lastSnapshotAt: isoOrUndefined(s.lastSnapshotAt),
    lastSnapshotId: s.lastSnapshotId ?? undefined,
    lastRun: s.lastRun
      ? compact({
          runId: s.lastRun.runId,
          sourceId: s.id,
          state: runState(s.lastRun.state),
          startedAt: iso(s.lastRun.startedAt),
          finishedAt: isoOrUndefined(s.lastRun.finishedAt),
          error: s.lastRun.error ?? undefined,
        })
      : undefined,
    nextRunAt: isoOrUndefined(s.nextRunAt),
    job: s.job ? job(s.job) : undefined,
    watch: watch
      ? compact({
          mode: watchMode(watch.mode),
          degraded: watch.degraded,
          pendingChanges: watch.pendingChanges,
          error: watch.lastError ? `${watch.lastError.code}: ${watch.lastError.message}` : undefined,
        })
      : undefined,
    copies: threeTwoOne(s.copies),
  });
}

export function copyMedium(m: engine.CopyMedium): CopyMedium {
  switch (m) {
    case 'this-disk':
    case 'other-disk':
    case 'nas':
    case 'cloud':
      return m;
    default:
      return unreachable(m, 'copy medium');
  }
}

/** The 3-2-1 status as the contract says it (times as ISO strings). */
export function threeTwoOne(c: engine.ThreeTwoOne): ThreeTwoOne {
  return {
    places: c.places.map((p) =>
      compact({
        targetId: p.targetId,
        name: p.name,
        primary: p.primary,
        medium: copyMedium(p.medium),
        offsite: p.offsite,
        newestAt: isoOrUndefined(p.newestAt),
        lastAttemptAt: isoOrUndefined(p.lastAttemptAt),
        lastError: p.lastError ?? undefined,
        behind: p.behind,
      }),
    ),
    copies: c.copies,
    media: c.media.map(copyMedium),
    offsite: c.offsite,
    met: c.met,
    missing: [...c.missing],
    summary: c.summary,
  };
}

export function alert(a: engine.Alert): Alert {
  return compact({
    id: a.id,
    kind: alertKind(a.kind),
    severity: alertSeverity(a.severity),
    sourceId: a.sourceId ?? undefined,
    targetId: a.targetId ?? undefined,
    text: a.text,
    action: a.action ?? undefined,
    fix: a.fix ? fixLink(a.fix) : undefined,
    raisedAt: iso(a.raisedAt),
    lastSeenAt: iso(a.lastSeenAt),
    count: Math.max(1, a.count),
    clearedAt: isoOrUndefined(a.clearedAt),
    acknowledgedAt: isoOrUndefined(a.acknowledgedAt),
    active: a.active,
  });
}

const SOURCE_KEY_PREFIX = sourceKey('');

/** The source key the service writes into its snapshots (engine `sourceKey`) → the source id. */
export function sourceIdOfKey(key: string): string | undefined {
  return key.startsWith(SOURCE_KEY_PREFIX) && key.length > SOURCE_KEY_PREFIX.length
    ? key.slice(SOURCE_KEY_PREFIX.length)
    : undefined;
}
