import { z } from 'zod';

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

export const jobPhaseSchema = z.enum(['scanning', 'backing-up', 'finalizing', 'restoring', 'verifying']);
export type JobPhase = z.infer<typeof jobPhaseSchema>;

export const jobProgressSchema = z.object({
  jobId: z.string().min(1),
  phase: jobPhaseSchema,
  bytesDone: count,
  bytesTotal: count.optional(),
  filesDone: count,
  filesTotal: count.optional(),
  /** bytes per second, averaged by the sender */
  rate: z.number().nonnegative(),
  etaSeconds: z.number().nonnegative().optional(),
  currentPath: z.string().optional(),
});
export type JobProgress = z.infer<typeof jobProgressSchema>;

export const jobKindSchema = z.enum(['backup', 'restore', 'verify', 'prune', 'drill']);
export type JobKind = z.infer<typeof jobKindSchema>;

/** A run's state machine: queued → running → one of the final states; `interrupted` is set on boot. */
export const jobStateSchema = z.enum(['queued', 'running', 'succeeded', 'failed', 'canceled', 'interrupted']);
export type JobState = z.infer<typeof jobStateSchema>;
