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

export const jobKindSchema = z.enum(['backup', 'restore', 'verify', 'prune', 'drill']);
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
  createdAt: isoTime,
});
export type Source = z.infer<typeof sourceSchema>;

export const sourceStatusSchema = sourceSchema.extend({
  target: z
    .object({ id: z.string(), name: z.string(), kind: serviceTargetKindSchema, location: z.string() })
    .optional(),
  /** a successful snapshot within the RPO exists */
  protected: z.boolean(),
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
  /** what to do about it */
  action: z.string().optional(),
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
