import { z } from 'zod';

import { resultErrorSchema } from './result.ts';

/**
 * Model types shared by every side of the contract. Everything is plain JSON (timestamps are ISO 8601
 * strings, not Date) so the same values travel over Electron IPC and over HTTP/WebSocket.
 */

const isoTime = z.iso.datetime({ offset: true });
const count = z.number().int().nonnegative();

export const snapshotStatsSchema = z.object({
  files: count,
  dirs: count,
  /** logical size of everything in the snapshot */
  bytes: count,
  /** new bytes this snapshot added to the repository (after dedup, before compression) */
  bytesAdded: count,
  /** items skipped because they could not be read */
  errors: count,
});
export type SnapshotStats = z.infer<typeof snapshotStatsSchema>;

export const snapshotSummarySchema = z.object({
  id: z.string().min(1),
  time: isoTime,
  host: z.string(),
  /** name of the configured source this snapshot came from */
  source: z.string(),
  /** id of the service's source (sources.list) when the snapshot was made by the service */
  sourceId: z.string().optional(),
  paths: z.array(z.string()),
  parent: z.string().optional(),
  stats: snapshotStatsSchema,
  /** the snapshot cannot be deleted before this time (immutability) */
  retainUntil: isoTime.optional(),
  /**
   * The earliest lock end over every object the snapshot needs, as the storage server last reported it
   * (the daily lock check, `bulwark verify --locks`); absent when unknown or not locked (folders).
   */
  protectedUntil: isoTime.optional(),
  /** under legal hold: kept whatever its dates say until the hold is lifted */
  held: z.boolean().optional(),
  /** the longest retention period that keeps it (its source's policy) */
  tier: z.enum(['daily', 'weekly', 'monthly', 'yearly']).optional(),
  /** the target it is stored on (service snapshots) */
  targetId: z.string().optional(),
});
export type SnapshotSummary = z.infer<typeof snapshotSummarySchema>;

export const targetKindSchema = z.enum(['fs', 's3', 'memory']);
export type TargetKind = z.infer<typeof targetKindSchema>;

export const repositoryInfoSchema = z.object({
  id: z.string().min(1),
  target: z.object({
    kind: targetKindSchema,
    /** a folder path or `s3://bucket/prefix`; never contains credentials */
    location: z.string(),
  }),
  /** repository format version */
  version: z.number().int().positive(),
  createdAt: isoTime,
  encrypted: z.boolean(),
  immutability: z.object({
    /** object-lock: S3 Object Lock; worm-folder: tamper-evident folder; none: no enforcement */
    mode: z.enum(['object-lock', 'worm-folder', 'none']),
    defaultRetentionDays: count.optional(),
  }),
  snapshotCount: count,
});
export type RepositoryInfo = z.infer<typeof repositoryInfoSchema>;

/** scanning: comparing files with the last snapshot; backing-up: reading and uploading; finalizing: committing */
export const jobPhaseSchema = z.enum(['scanning', 'backing-up', 'finalizing', 'restoring', 'verifying']);
export type JobPhase = z.infer<typeof jobPhaseSchema>;

export const jobProgressSchema = z.object({
  jobId: z.string().min(1),
  /** the service's source the job backs up */
  sourceId: z.string().optional(),
  phase: jobPhaseSchema,
  bytesDone: count,
  bytesTotal: count.optional(),
  filesDone: count,
  filesTotal: count.optional(),
  /** bytes per second, averaged by the sender */
  rate: z.number().nonnegative(),
  etaSeconds: z.number().nonnegative().optional(),
  currentPath: z.string().optional(),
  /** new bytes stored so far (after dedup) */
  bytesAdded: count.optional(),
});
export type JobProgress = z.infer<typeof jobProgressSchema>;

/**
 * forget: retention applied after a backup; prune: space freed (weekly); verify: the daily lock check;
 * copy: a source's new backups copied to another destination (3-2-1)
 */
export const jobKindSchema = z.enum(['backup', 'restore', 'verify', 'prune', 'drill', 'forget', 'copy']);
export type JobKind = z.infer<typeof jobKindSchema>;

/**
 * A job's state machine: queued → running → (canceling →) one of the final states. `interrupted`: stopped by a
 * shutdown, a pause or a crash; the next run resumes it (nothing is uploaded twice).
 */
export const jobStateSchema = z.enum([
  'queued',
  'running',
  'canceling',
  'succeeded',
  'failed',
  'canceled',
  'interrupted',
]);
export type JobState = z.infer<typeof jobStateSchema>;

// ---- the unattended service: sources, targets, jobs, alerts ----------------------------------------------

const minutes = z.number().positive().max(525_600);

/** Why a job was asked for: a person, the folder watcher, the periodic rescan, a retry, a resumed pause. */
export const jobReasonSchema = z.enum(['manual', 'watch', 'rescan', 'retry', 'resume']);
export type JobReason = z.infer<typeof jobReasonSchema>;

/** A run as recorded (this process or an earlier one). */
export const runStateSchema = z.enum(['running', 'succeeded', 'failed', 'canceled', 'interrupted']);
export type RunState = z.infer<typeof runStateSchema>;

export const jobSchema = z.object({
  id: z.string().min(1),
  kind: jobKindSchema,
  sourceId: z.string().min(1),
  targetId: z.string().optional(),
  reason: jobReasonSchema,
  state: jobStateSchema,
  /** changed paths the watcher reported for this job */
  changes: count,
  queuedAt: isoTime,
  startedAt: isoTime.optional(),
  finishedAt: isoTime.optional(),
  snapshotId: z.string().optional(),
  error: resultErrorSchema.optional(),
  /** the latest progress of a running job */
  progress: jobProgressSchema.optional(),
  /** what a finished restore did */
  restore: z.lazy(() => restoreSummarySchema).optional(),
});
export type Job = z.infer<typeof jobSchema>;

export const runSummarySchema = z.object({
  runId: z.number().int().positive(),
  sourceId: z.string().optional(),
  state: runStateSchema,
  startedAt: isoTime,
  finishedAt: isoTime.optional(),
  snapshotId: z.string().optional(),
  /** why it failed or stopped, for people */
  error: z.string().optional(),
  reason: jobReasonSchema.optional(),
  /** files in the snapshot, and how many were new or changed */
  files: count.optional(),
  filesChanged: count.optional(),
  bytesAdded: count.optional(),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

/** ok: a snapshot within the RPO exists; pending: never backed up, added less than one RPO ago; missed: neither */
export const rpoStateSchema = z.enum(['ok', 'pending', 'missed']);
export type RpoState = z.infer<typeof rpoStateSchema>;

/** live: file-system events; polling: periodic stat; rescan-only: periodic full rescans; off: not watched */
export const watchModeSchema = z.enum(['starting', 'live', 'polling', 'rescan-only', 'off']);
export type WatchMode = z.infer<typeof watchModeSchema>;

export const serviceTargetKindSchema = z.enum(['fs', 's3']);
export type ServiceTargetKind = z.infer<typeof serviceTargetKindSchema>;

export const lockModeSchema = z.enum(['COMPLIANCE', 'GOVERNANCE']);

/**
 * What the target self-test (targets.test) concluded: immutable (S3 Object Lock holds against these
 * keys), tamper-evident (a folder: changes are detected, not prevented), not-immutable (with the reason).
 */
export const targetVerdictSchema = z.enum(['immutable', 'tamper-evident', 'not-immutable']);
export type TargetVerdict = z.infer<typeof targetVerdictSchema>;

/** The last self-test of a saved target, kept with it (src-main/engine/service/target-tests.ts). */
export const targetLastTestSchema = z.object({
  verdict: targetVerdictSchema,
  /** the verdict in plain words, e.g. "Immutable" or "Not immutable with these credentials" */
  headline: z.string(),
  /** why, in one sentence */
  reason: z.string(),
  testedAt: isoTime,
  mode: lockModeSchema.optional(),
});
export type TargetLastTest = z.infer<typeof targetLastTestSchema>;

/** A configured target. Never carries a password or access key (they stay on the main side). */
export const targetSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  kind: serviceTargetKindSchema,
  /** an absolute folder path or `s3://bucket/prefix` */
  location: z.string(),
  endpoint: z.string().optional(),
  region: z.string().optional(),
  /** the embedded default repository in the data folder */
  isDefault: z.boolean(),
  /** bandwidth limit shared by every job on this target */
  bytesPerSecond: count.optional(),
  /** object-lock: S3 Object Lock; worm-folder: tamper-evident folder; none: no enforcement */
  immutability: z.enum(['object-lock', 'worm-folder', 'none']),
  lock: z.object({ mode: lockModeSchema, days: count }).optional(),
  repositoryId: z.string().optional(),
  createdAt: isoTime,
  /** the last self-test (absent: never tested) */
  lastTest: targetLastTestSchema.optional(),
});
export type Target = z.infer<typeof targetSchema>;

export const sourceSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  /** absolute paths, backed up together as one snapshot */
  paths: z.array(z.string()),
  include: z.array(z.string()),
  exclude: z.array(z.string()),
  targetId: z.string(),
  /** recovery point objective: an alert is raised when the last good snapshot is older */
  rpoMinutes: minutes,
  /** file-system events are batched until this long without a new one */
  quietSeconds: z.number().nonnegative(),
  /** a full rescan runs at least this often */
  rescanMinutes: minutes,
  enabled: z.boolean(),
  /** a restore test runs at least this often (days; default 7) */
  drillEveryDays: z.number().positive().optional(),
  /** the longest a full restore may take (recovery time objective; default 240) */
  rtoMinutes: minutes.optional(),
  /** 3-2-1: other destinations its backups are copied to after each backup (absent: none) */
  copyTargetIds: z.array(z.string()).optional(),
  createdAt: isoTime,
});
export type Source = z.infer<typeof sourceSchema>;

/** Where a copy lives: this computer's disk, another disk, a network folder (NAS), a cloud bucket. */
export const copyMediumSchema = z.enum(['this-disk', 'other-disk', 'nas', 'cloud']);
export type CopyMedium = z.infer<typeof copyMediumSchema>;

/** 3-2-1 of a source: each place its backups are (its destination first, then its copies), and what is missing. */
export const threeTwoOneSchema = z.object({
  places: z.array(
    z.object({
      targetId: z.string(),
      name: z.string(),
      /** the destination it backs up to (the others receive copies) */
      primary: z.boolean(),
      medium: copyMediumSchema,
      offsite: z.boolean(),
      /** the newest backup of the source this place holds (absent: none yet) */
      newestAt: isoTime.optional(),
      lastAttemptAt: isoTime.optional(),
      /** why the last copy failed, in the engine's words */
      lastError: z.string().optional(),
      /** its newest copy is older than the source's time limit while the source itself is current */
      behind: z.boolean(),
    }),
  ),
  /** places holding a backup that is not late */
  copies: z.number().int().nonnegative(),
  media: z.array(copyMediumSchema),
  offsite: z.number().int().nonnegative(),
  /** two copies or more, one off this computer's disk, one off-site, none late */
  met: z.boolean(),
  /** what is missing, in plain words */
  missing: z.array(z.string()),
  /** "2 copies · 1 off-site" or "Only one copy — add an off-site copy" */
  summary: z.string(),
});
export type ThreeTwoOne = z.infer<typeof threeTwoOneSchema>;

// ---- protection status (DESIGN §8: one function on the main side decides, every surface shows it) ----------

/** The pages of the app; an alert or a reason links to the one that fixes it. */
export const pageSchema = z.enum([
  'overview',
  'restore',
  'sources',
  'snapshots',
  'targets',
  'alerts',
  'settings',
]);
export type Page = z.infer<typeof pageSchema>;

/** protected: the last backup succeeded within the RPO and nothing below is wrong; otherwise at-risk or not-protected */
export const protectionStateSchema = z.enum(['protected', 'at-risk', 'not-protected']);
export type ProtectionState = z.infer<typeof protectionStateSchema>;

/** Why a source is not (fully) protected, in plain words, with the page that fixes it. */
export const protectionReasonSchema = z.object({
  code: z.enum([
    'never-backed-up',
    'last-backup-failed',
    'rpo-missed',
    'paused',
    'source-disabled',
    'service-stopped',
    'source-missing',
    'target-missing',
    'target-unreachable',
    'target-not-immutable',
    'same-disk',
    'lock-invariant-broken',
    'repository-damaged',
    'repository-tampered',
    'locks-short',
    'ransomware-suspected',
  ]),
  /** one sentence for people: what is wrong */
  text: z.string(),
  fix: z.object({ page: pageSchema, label: z.string() }).optional(),
});
export type ProtectionReason = z.infer<typeof protectionReasonSchema>;

export const protectionSchema = z.object({
  state: protectionStateSchema,
  /** a few words: "Protected", "At risk: the last backup failed", "Not protected: never backed up" */
  summary: z.string(),
  reasons: z.array(protectionReasonSchema),
});
export type Protection = z.infer<typeof protectionSchema>;

/** The answer at the top of every page: "All 3 folders protected — last backup 4 minutes ago". */
export const overallProtectionSchema = z.object({
  state: protectionStateSchema,
  headline: z.string(),
  lastBackupAt: isoTime.optional(),
  counts: z.object({ protected: count, atRisk: count, notProtected: count }),
});
export type OverallProtection = z.infer<typeof overallProtectionSchema>;

export const sourceStatusSchema = sourceSchema.extend({
  target: z
    .object({ id: z.string(), name: z.string(), kind: serviceTargetKindSchema, location: z.string() })
    .optional(),
  /** true only when `protection.state` is 'protected' (kept for scripts) */
  protected: z.boolean(),
  protection: protectionSchema,
  rpoState: rpoStateSchema,
  lastSnapshotAt: isoTime.optional(),
  lastSnapshotId: z.string().optional(),
  lastRun: runSummarySchema.optional(),
  /** when the next scheduled rescan (or retry) is due */
  nextRunAt: isoTime.optional(),
  /** the running job, else the queued one */
  job: jobSchema.optional(),
  watch: z
    .object({
      mode: watchModeSchema,
      /** watching in a weaker mode than wanted, or not at all */
      degraded: z.boolean(),
      /** changes seen and waiting for the quiet period */
      pendingChanges: count,
      error: z.string().optional(),
    })
    .optional(),
  /** 3-2-1: copies, kinds of media, off-site copies and what is missing (absent from older services) */
  copies: threeTwoOneSchema.optional(),
});
export type SourceStatus = z.infer<typeof sourceStatusSchema>;

export const alertKindSchema = z.enum([
  'backup-failed',
  'rpo-missed',
  'target-unreachable',
  'selftest-failed',
  'lock-invariant-broken',
  'repository-damaged',
  'repository-tampered',
  'watch-degraded',
  /** a folder of a source is not there (moved, renamed, its disk or share disconnected) */
  'source-missing',
  /** the daily lock check found backups the server protects for less time than promised */
  'locks-short',
  /** a ransomware signal on a watched folder: its last clean backup is held, old backups are not cleaned up */
  'ransomware-suspected',
  /** a restore test found files that do not come back intact, or a full restore would take longer than allowed */
  'drill-failed',
  /** an extra copy of a source's backups (3-2-1) is older than the source's time limit */
  'copy-behind',
]);
export type AlertKind = z.infer<typeof alertKindSchema>;

export const alertSeveritySchema = z.enum(['info', 'warning', 'error', 'critical']);
export type AlertSeverity = z.infer<typeof alertSeveritySchema>;

export const alertSchema = z.object({
  id: z.number().int().positive(),
  kind: alertKindSchema,
  severity: alertSeveritySchema,
  sourceId: z.string().optional(),
  targetId: z.string().optional(),
  /** one or two sentences for people */
  text: z.string(),
  /** what to do about it, for a person without a terminal */
  action: z.string().optional(),
  /** the page that fixes it */
  fix: z.object({ page: pageSchema, label: z.string() }).optional(),
  raisedAt: isoTime,
  lastSeenAt: isoTime,
  /** how many times the condition was seen while the alert was open */
  count: z.number().int().positive(),
  clearedAt: isoTime.optional(),
  acknowledgedAt: isoTime.optional(),
  /** open until its condition resolves (acknowledging does not close it) */
  active: z.boolean(),
});
export type Alert = z.infer<typeof alertSchema>;

// ---- restore: browse, find, versions, preview, plan ---------------------------------------------------------

export const entryTypeSchema = z.enum(['file', 'dir', 'symlink', 'other']);
export type EntryType = z.infer<typeof entryTypeSchema>;

/** One entry of a folder in a snapshot. `path` is what restore accepts (relative to the snapshot root). */
export const snapshotEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  type: entryTypeSchema,
  size: count.optional(),
  mtime: isoTime.optional(),
  /** where it was on disk when it was backed up */
  originalPath: z.string().optional(),
});
export type SnapshotEntry = z.infer<typeof snapshotEntrySchema>;

/** One distinct version of a file (its content), and the snapshots it is in. */
export const fileVersionSchema = z.object({
  /** the newest snapshot holding this version: restore this one */
  snapshotId: z.string(),
  /** the snapshot it first appeared in, and when */
  firstSnapshotId: z.string(),
  firstSeen: isoTime,
  /** the last snapshot that still had it (absent: still the current version) */
  lastSeen: isoTime.optional(),
  /** the file was changed (`changed`) or deleted (`deleted`) after this version */
  endedBy: z.enum(['changed', 'deleted']).optional(),
  path: z.string(),
  originalPath: z.string(),
  size: count,
  mtime: isoTime,
});
export type FileVersion = z.infer<typeof fileVersionSchema>;

export const findResultSchema = z.object({
  sourceId: z.string(),
  sourceName: z.string(),
  /** relative to the snapshot root (restore accepts it) */
  path: z.string(),
  originalPath: z.string(),
  name: z.string(),
  /** newest first */
  versions: z.array(fileVersionSchema),
  /** deleted from the folder: absent from the newest snapshot */
  deleted: z.boolean(),
});
export type FindResult = z.infer<typeof findResultSchema>;

export const conflictPolicySchema = z.enum(['overwrite', 'keep-both', 'skip', 'if-newer']);
export type ConflictPolicy = z.infer<typeof conflictPolicySchema>;

export const restoreDestinationSchema = z.discriminatedUnion('kind', [
  /** where the files were when they were backed up */
  z.object({ kind: z.literal('original') }),
  z.object({ kind: z.literal('folder'), path: z.string().min(1) }),
]);
export type RestoreDestination = z.infer<typeof restoreDestinationSchema>;

/** What restoring one file will do, decided before anything is written. */
export const restorePlanItemSchema = z.object({
  path: z.string(),
  /** where it will be written */
  destination: z.string(),
  type: entryTypeSchema,
  /** create: nothing there; identical: the same bytes are there (skipped); conflict: other content is there */
  action: z.enum(['create', 'identical', 'conflict']),
  size: count,
  mtime: isoTime.optional(),
  existing: z.object({ size: count, mtime: isoTime }).optional(),
});
export type RestorePlanItem = z.infer<typeof restorePlanItemSchema>;

export const restoreSummarySchema = z.object({
  restored: count,
  /** identical files, and conflicts the policy skipped */
  skipped: count,
  failed: count,
  bytes: count,
  /** restored beside the existing file (keep-both) */
  keptBoth: count,
  failures: z.array(z.object({ path: z.string(), message: z.string() })),
  destination: z.string(),
});
export type RestoreSummary = z.infer<typeof restoreSummarySchema>;
