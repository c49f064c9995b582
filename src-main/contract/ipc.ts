import { z } from 'zod';

import {
  alertSchema,
  conflictPolicySchema,
  fileVersionSchema,
  findResultSchema,
  overallProtectionSchema,
  restoreDestinationSchema,
  restorePlanItemSchema,
  jobKindSchema,
  jobProgressSchema,
  jobReasonSchema,
  jobSchema,
  jobStateSchema,
  lockModeSchema,
  repositoryInfoSchema,
  rpoStateSchema,
  runSummarySchema,
  snapshotEntrySchema,
  snapshotSummarySchema,
  sourceStatusSchema,
  targetSchema,
} from './model.ts';
import { oversightChannels } from './oversight.ts';
import { signalChannels } from './signals.ts';
import { retentionChannels } from './retention.ts';
import { drillChannels } from './drills.ts';
import { resultErrorSchema, type Result } from './result.ts';
import { targetTestResultSchema } from './target-test.ts';

/**
 * THE contract between the UI and the main side. Every request/response channel and every event the main
 * side pushes is declared here, once, with zod schemas. The preload bridge, the Electron IPC router, the
 * renderer's typed client and the HTTP/WebSocket transport all derive from these two maps: adding a
 * channel here (plus its handler) is the only step needed to expose it.
 *
 * Rules: names start with `bulwark:`; requests are objects (so they travel as JSON bodies too); every
 * response travels inside a Result envelope (see result.ts); values are plain JSON (ISO date strings).
 */

export const CHANNEL_PREFIX = 'bulwark:';
type Prefixed = `${typeof CHANNEL_PREFIX}${string}`;

interface ChannelSpec {
  request: z.ZodType;
  response: z.ZodType;
}

/** A request that takes no arguments: `{}` and nothing else. */
const noArgs = z.strictObject({});

export const appVersionSchema = z.object({
  name: z.string(),
  version: z.string(),
  platform: z.string(),
  runtime: z.object({
    node: z.string(),
    electron: z.string().optional(),
    chrome: z.string().optional(),
  }),
});

const id = z.string().min(1).max(100);

// The fields a person fills in carry messages written for people: dispatch shows them as they are (without
// the channel or the field path), so each says what to do. See contract/validation.ts.

/**
 * An absolute path: `/…` (POSIX), `C:\…` or `C:/…` (Windows), `\\server\share…` (UNC). Whether it can be a
 * folder of the computer the service runs on (a Windows path on Linux cannot) is the main side's to say.
 */
const absolutePath = z
  .string('Choose a folder.')
  .min(1, 'Choose a folder.')
  .max(4096, 'This folder path is too long.')
  .refine(
    (p) => /^(\/|[A-Za-z]:[\\/]|\\\\[^\\])/.test(p),
    'Give the full path of the folder: it starts with / (or with a drive letter like C:\\ on Windows).',
  )
  .refine((p) => !p.includes('\0'), 'A folder path cannot contain a NUL character.');
const glob = z
  .string('A pattern must be text.')
  .min(1, 'A pattern cannot be empty.')
  .max(1000, 'A pattern is too long (at most 1 000 characters).');
const patterns = z.array(glob, 'Give the patterns as a list.').max(1000, 'Give at most 1 000 patterns.');
/** a repository password or an access key: sent to the main side, never sent back */
const secret = z.string().min(1).max(1024);
const password = z
  .string('Give the password of the backups.')
  .min(1, 'Give the password of the backups.')
  .max(1024, 'The password is too long (at most 1 024 characters).');
const minutesField = (what: string) =>
  z
    .number(`${what} must be a number of minutes.`)
    .positive(`${what} must be more than 0 minutes.`)
    .max(525_600, `${what} can be at most a year.`);

const sourceFields = {
  name: z
    .string('Give the folder a name.')
    .trim()
    .min(1, 'Give the folder a name.')
    .max(200, 'The name is too long (at most 200 characters).'),
  paths: z
    .array(absolutePath, 'Choose at least one folder.')
    .min(1, 'Choose at least one folder.')
    .max(100, 'Choose at most 100 folders.'),
  include: patterns,
  exclude: patterns,
  targetId: id,
  rpoMinutes: minutesField('The longest time without a backup'),
  quietSeconds: z
    .number('The wait after a change must be a number of seconds.')
    .min(0, 'The wait after a change cannot be negative.')
    .max(86_400, 'The wait after a change can be at most a day.'),
  rescanMinutes: minutesField('The time between full checks'),
  enabled: z.boolean(),
  drillEveryDays: z
    .number('The time between restore tests must be a number of days.')
    .positive('The time between restore tests must be more than 0 days.')
    .max(366, 'Run a restore test at least once a year.'),
  rtoMinutes: minutesField('The longest a full restore may take'),
  /** 3-2-1: other destinations its backups are copied to after each backup */
  copyTargetIds: z
    .array(id, 'Choose the destinations to copy to.')
    .max(20, 'Choose at most 20 destinations to copy to.'),
};

/** What `sources.add` takes; omitted fields get the service's defaults (RPO 60 min, quiet 30 s, rescan 60 min). */
export const sourceAddSchema = z.strictObject({
  name: sourceFields.name,
  paths: sourceFields.paths,
  include: sourceFields.include.optional(),
  exclude: sourceFields.exclude.optional(),
  /** default: the only target, else the default one */
  targetId: sourceFields.targetId.optional(),
  rpoMinutes: sourceFields.rpoMinutes.optional(),
  quietSeconds: sourceFields.quietSeconds.optional(),
  rescanMinutes: sourceFields.rescanMinutes.optional(),
  enabled: sourceFields.enabled.optional(),
  /** restore tests: how often (days, default 7) and the longest a full restore may take (default 240 min) */
  drillEveryDays: sourceFields.drillEveryDays.optional(),
  rtoMinutes: sourceFields.rtoMinutes.optional(),
  copyTargetIds: sourceFields.copyTargetIds.optional(),
});

export const sourceUpdateSchema = z.strictObject({
  sourceId: id,
  name: sourceFields.name.optional(),
  paths: sourceFields.paths.optional(),
  include: sourceFields.include.optional(),
  exclude: sourceFields.exclude.optional(),
  targetId: sourceFields.targetId.optional(),
  rpoMinutes: sourceFields.rpoMinutes.optional(),
  quietSeconds: sourceFields.quietSeconds.optional(),
  rescanMinutes: sourceFields.rescanMinutes.optional(),
  enabled: sourceFields.enabled.optional(),
  drillEveryDays: sourceFields.drillEveryDays.optional(),
  rtoMinutes: sourceFields.rtoMinutes.optional(),
  copyTargetIds: sourceFields.copyTargetIds.optional(),
});

const targetCommon = {
  name: z
    .string('Give the destination a name.')
    .trim()
    .min(1, 'Give the destination a name.')
    .max(200, 'The name is too long (at most 200 characters).')
    .optional(),
  /** the repository password (a new repository is created with it) */
  password,
  /** create the repository when the location holds none (default true) */
  initialize: z.boolean().optional(),
  /**
   * new: refuse a location that already holds a repository; existing: refuse one that holds none, and
   * rebuild this computer's catalog from the repository (its snapshots appear). Absent: either.
   */
  repository: z.enum(['new', 'existing']).optional(),
  /** bandwidth limit for this target, bytes per second */
  bytesPerSecond: z
    .number('The speed limit must be a number of bytes per second.')
    .int('The speed limit must be a whole number of bytes per second.')
    .positive('The speed limit must be more than 0.')
    .optional(),
};

/** Where an S3 target is and the keys to reach it (targets.add and targets.test). */
const s3Location = {
  bucket: z
    .string('Give the name of the bucket.')
    .min(3, 'A bucket name has at least 3 characters.')
    .max(63, 'A bucket name has at most 63 characters.')
    .regex(
      /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/,
      'A bucket name has only lowercase letters, digits, dots and hyphens, and starts and ends with a letter or digit.',
    ),
  prefix: z
    .string('The folder in the bucket must be text.')
    .max(512, 'The folder in the bucket is too long (at most 512 characters).')
    .refine(
      (p) => !p.includes('..') && !p.startsWith('/'),
      'The folder in the bucket must not start with / or contain "..".',
    )
    .optional(),
  /** S3-compatible servers (Ceph, MinIO, a NAS, Wasabi, B2): their URL */
  endpoint: z
    .url({
      protocol: /^https?$/,
      error: 'Give the address of the storage service, starting with https:// (or http://).',
    })
    .optional(),
  region: z
    .string('The region must be text.')
    .min(1, 'The region cannot be empty.')
    .max(100, 'The region is too long.')
    .optional(),
  /** without keys the service uses its environment's (AWS_* variables, ~/.aws) */
  accessKeyId: secret.optional(),
  secretAccessKey: secret.optional(),
};
const bothKeysOrNeither = {
  check: (t: { accessKeyId?: string | undefined; secretAccessKey?: string | undefined }) =>
    (t.accessKeyId === undefined) === (t.secretAccessKey === undefined),
  params: { message: 'Give both the access key and the secret key, or neither.', path: ['secretAccessKey'] },
};

/** A folder (local disk or mounted NAS share) or an S3 bucket; the secrets are kept on the main side. */
export const targetAddSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('fs'), path: absolutePath, ...targetCommon }),
  z
    .strictObject({
      kind: z.literal('s3'),
      ...s3Location,
      /** Object Lock for a repository created here (the bucket must have Object Lock enabled) */
      objectLock: z
        .strictObject({
          mode: lockModeSchema,
          days: z
            .number('The lock must be a number of days.')
            .int('The lock must be a whole number of days.')
            .min(1, 'The lock must last at least 1 day.')
            .max(36_500, 'The lock can last at most 100 years.'),
        })
        .optional(),
      ...targetCommon,
    })
    .refine(bothKeysOrNeither.check, bothKeysOrNeither.params),
]);

/**
 * targets.test: a saved target (by id), or a location and keys given in the wizard (nothing is saved).
 * `mode`: the lock mode to test (default: the repository's, else COMPLIANCE).
 */
export const targetTestSchema = z.union([
  z.strictObject({ targetId: id, mode: lockModeSchema.optional() }),
  z.strictObject({ kind: z.literal('fs'), path: absolutePath }),
  z
    .strictObject({ kind: z.literal('s3'), ...s3Location, mode: lockModeSchema.optional() })
    .refine(bothKeysOrNeither.check, bothKeysOrNeither.params),
]);

export const channels = {
  /** name and version of the running app (works before any repository is configured) */
  'bulwark:app.version': { request: noArgs, response: appVersionSchema },
  /** the open repository; fails with REPO_NOT_FOUND when none is configured */
  'bulwark:repo.info': { request: noArgs, response: repositoryInfoSchema },
  /**
   * Snapshots, newest first, a page at a time. With `sourceId` or `targetId`: from the repository of that
   * source's target (or of that target), each with its protected-until, tier and legal hold; without
   * either: from the repository `bulwark serve` was given (--repo, else the default one).
   */
  'bulwark:snapshots.list': {
    request: z.strictObject({
      /** only snapshots of this configured source */
      source: z.string().min(1).optional(),
      /** only snapshots the service made of this source (sources.list), from its target */
      sourceId: id.optional(),
      /** every snapshot on this target (with sourceId: that source's on this target) */
      targetId: id.optional(),
      offset: z.number().int().min(0).optional(),
      limit: z.number().int().min(1).max(10_000).optional(),
    }),
    response: z.object({
      snapshots: z.array(snapshotSummarySchema),
      /** how many there are in all (for paging) */
      total: z.number().int().nonnegative().optional(),
    }),
  },

  // ---- the unattended service ----
  /** everything the dashboard needs at once: sources with their protection, targets, pause, RPO counts */
  'bulwark:service.status': {
    request: noArgs,
    response: z.object({
      /** the answer at the top of every page, decided on the main side (never greener than the truth) */
      overall: overallProtectionSchema,
      /** the scheduler and the watchers are running */
      started: z.boolean(),
      /** pauseAll: no job starts until resumeAll */
      paused: z.boolean(),
      sources: z.array(sourceStatusSchema),
      targets: z.array(targetSchema),
      /** sources per RPO state */
      rpo: z.record(rpoStateSchema, z.number().int().nonnegative()),
      activeAlerts: z.number().int().nonnegative(),
      jobs: z.object({ running: z.number().int().nonnegative(), queued: z.number().int().nonnegative() }),
    }),
  },
  'bulwark:sources.list': {
    request: noArgs,
    response: z.object({ sources: z.array(sourceStatusSchema) }),
  },
  /** adds a source and starts protecting it (its first backup is queued at once) */
  'bulwark:sources.add': {
    request: sourceAddSchema,
    response: z.object({ source: sourceStatusSchema }),
  },
  'bulwark:sources.update': {
    request: sourceUpdateSchema,
    response: z.object({ source: sourceStatusSchema }),
  },
  /** stops protecting a source (its jobs are canceled); its snapshots stay in the repository */
  'bulwark:sources.remove': {
    request: z.strictObject({ sourceId: id }),
    response: z.object({ sourceId: z.string() }),
  },
  'bulwark:targets.list': {
    request: noArgs,
    response: z.object({ targets: z.array(targetSchema) }),
  },
  /** opens (or creates) the repository at the location with the password, then keeps the secrets */
  'bulwark:targets.add': {
    request: targetAddSchema,
    response: z.object({ target: targetSchema }),
  },
  /**
   * The self-test: is this target immutable with these keys? Runs against a saved target or a location
   * and keys given (nothing is saved then; a saved target keeps the result as its lastTest).
   */
  'bulwark:targets.test': {
    request: targetTestSchema,
    response: z.object({ result: targetTestResultSchema }),
  },
  /**
   * Disaster recovery on a new computer ("Restore from an existing backup"): opens the existing repository at
   * the location with the password (never creates one: `initialize` and `objectLock` are ignored), keeps it as
   * a target, rebuilds the catalog from it and adds each folder it holds backups of as a paused source, so
   * its snapshots appear on the Restore page. Resume a source to protect it again from this computer.
   */
  'bulwark:targets.connect': {
    request: targetAddSchema,
    response: z.object({
      target: targetSchema,
      /** the folders found in the backups, each a paused source */
      sources: z.array(sourceStatusSchema),
      snapshots: z.number().int().nonnegative(),
    }),
  },
  /** only a target no source uses; the repository itself is left as it is */
  'bulwark:targets.remove': {
    request: z.strictObject({ targetId: id }),
    response: z.object({ targetId: z.string() }),
  },
  /** running and queued jobs, recently finished ones, and the recorded runs (newest first) */
  'bulwark:jobs.list': {
    request: z.strictObject({
      sourceId: id.optional(),
      historyLimit: z.number().int().min(0).max(1000).optional(),
    }),
    response: z.object({ paused: z.boolean(), jobs: z.array(jobSchema), history: z.array(runSummarySchema) }),
  },
  /** queues a backup of the source now (merged with one already queued) */
  'bulwark:jobs.runNow': {
    request: z.strictObject({ sourceId: id }),
    response: z.object({ job: jobSchema }),
  },
  /** a running job stops at once and the repository stays valid: the next run resumes */
  'bulwark:jobs.cancel': {
    request: z.strictObject({ jobId: id }),
    response: z.object({ job: jobSchema }),
  },
  /** no job starts until resumeAll; a running one is interrupted and continues on resume */
  'bulwark:jobs.pauseAll': {
    request: noArgs,
    response: z.object({ paused: z.boolean() }),
  },
  'bulwark:jobs.resumeAll': {
    request: noArgs,
    response: z.object({ paused: z.boolean() }),
  },
  // ---- choosing folders ----
  /**
   * Folders inside a folder of the computer the service runs on (for the folder picker in a browser; the
   * desktop app uses the native dialog). Without `path`: the usual places (home, documents, drives, shares).
   */
  'bulwark:fs.folders': {
    request: z.strictObject({ path: absolutePath.optional() }),
    response: z.object({
      path: z.string().optional(),
      parent: z.string().optional(),
      folders: z.array(z.object({ name: z.string(), path: z.string() })),
      places: z.array(z.object({ label: z.string(), path: z.string() })),
      /** folders beyond the first 1 000 are not listed */
      truncated: z.boolean(),
    }),
  },

  /**
   * The computer's own folder dialog (the desktop app): the folder the person chose, or no `path` when they
   * canceled. `bulwark serve` answers UNSUPPORTED (a browser page cannot open it): use fs.folders there.
   */
  'bulwark:fs.pickFolder': {
    request: z.strictObject({
      /** what the folder is for: the dialog's title and button say it */
      purpose: z.enum(['source', 'target', 'restore-destination']),
      /** where the dialog opens */
      startPath: absolutePath.optional(),
    }),
    response: z.object({ path: z.string().optional() }),
  },

  // ---- restore ----
  /** one folder of a snapshot, a page at a time (folders first, then by name) */
  'bulwark:restore.browse': {
    request: z.strictObject({
      sourceId: id,
      snapshotId: id,
      /** relative to the snapshot root; '' for the root */
      path: z.string().max(4096),
      offset: z.number().int().min(0).optional(),
      limit: z.number().int().min(1).max(1000).optional(),
    }),
    response: z.object({
      path: z.string(),
      total: z.number().int().nonnegative(),
      offset: z.number().int().nonnegative(),
      entries: z.array(snapshotEntrySchema),
      /** the folder's listing could not be read (damaged): why, in plain words */
      damaged: z.string().optional(),
    }),
  },
  /** files whose path contains the text (or matches a glob: * ? [..]), across every snapshot of every source */
  'bulwark:restore.find': {
    request: z.strictObject({
      query: z.string().trim().min(1).max(500),
      sourceId: id.optional(),
      limit: z.number().int().min(1).max(500).optional(),
    }),
    response: z.object({ results: z.array(findResultSchema), truncated: z.boolean() }),
  },
  /** every distinct version of one file, newest first */
  'bulwark:restore.versions': {
    request: z.strictObject({ sourceId: id, path: z.string().min(1).max(4096) }),
    response: z.object({ versions: z.array(fileVersionSchema) }),
  },
  /** the start of a file for the preview pane: text (first 256 KiB) or an image (up to 2 MiB, as a data URL) */
  'bulwark:restore.preview': {
    request: z.strictObject({ sourceId: id, snapshotId: id, path: z.string().min(1).max(4096) }),
    response: z.object({
      name: z.string(),
      size: z.number().int().nonnegative(),
      kind: z.enum(['text', 'image', 'other']),
      mime: z.string(),
      text: z.string().optional(),
      dataUrl: z.string().optional(),
      truncated: z.boolean(),
    }),
  },
  /** what restoring these files or folders will do, before anything is written */
  'bulwark:restore.plan': {
    request: z.strictObject({
      sourceId: id,
      snapshotId: id,
      paths: z.array(z.string().max(4096)).min(1).max(10_000),
      destination: restoreDestinationSchema,
    }),
    response: z.object({
      planId: z.string(),
      destination: z.string(),
      /** the first 2 000 items (conflicts first); `totals` counts them all */
      items: z.array(restorePlanItemSchema),
      totals: z.object({
        files: z.number().int().nonnegative(),
        bytes: z.number().int().nonnegative(),
        create: z.number().int().nonnegative(),
        identical: z.number().int().nonnegative(),
        conflicts: z.number().int().nonnegative(),
      }),
      truncated: z.boolean(),
    }),
  },
  /** carries out a plan as a job (progress with rate and ETA on job.progress; cancel with jobs.cancel) */
  'bulwark:restore.start': {
    request: z.strictObject({ planId: id, onConflict: conflictPolicySchema }),
    response: z.object({ job: jobSchema }),
  },
  /** a one-time link that downloads a file (a folder: as .zip) through the service; never carries the token */
  'bulwark:restore.download': {
    request: z.strictObject({ sourceId: id, snapshotId: id, path: z.string().max(4096) }),
    response: z.object({ url: z.string(), name: z.string(), expiresAt: z.iso.datetime({ offset: true }) }),
  },

  /** newest first; `active: true` open ones only, `false` the history of cleared ones */
  'bulwark:alerts.list': {
    request: z.strictObject({
      active: z.boolean().optional(),
      sourceId: id.optional(),
      limit: z.number().int().min(1).max(1000).optional(),
    }),
    response: z.object({ alerts: z.array(alertSchema) }),
  },
  /** marks an alert as seen; it stays open until its condition resolves */
  'bulwark:alerts.acknowledge': {
    request: z.strictObject({ alertId: z.number().int().positive() }),
    response: z.object({ alert: alertSchema }),
  },

  // ---- notifications, the audit log, storage history (contract/oversight.ts) ----
  ...oversightChannels,
  // ---- ransomware signals: the last clean snapshot, resolving an incident, decoys (contract/signals.ts) ----
  ...signalChannels,

  // ---- snapshots: legal hold, retention, prune and the lock check (contract/retention.ts) ----
  ...retentionChannels,

  // ---- restore drills: test restores, their history and the printable report (contract/drills.ts) ----
  ...drillChannels,
} as const satisfies Record<Prefixed, ChannelSpec>;

export const jobStateEventSchema = z.object({
  jobId: z.string().min(1),
  kind: jobKindSchema,
  state: jobStateSchema,
  /** when the job entered this state (ISO 8601) */
  at: z.iso.datetime({ offset: true }),
  /** set when state is `failed` */
  error: resultErrorSchema.optional(),
  /** the service's source the job backs up */
  sourceId: z.string().optional(),
  reason: jobReasonSchema.optional(),
  /** set when a backup succeeded */
  snapshotId: z.string().optional(),
});

export const sourceChangedEventSchema = z.object({
  sourceId: z.string().min(1),
  removed: z.boolean(),
  /** the source's status now (absent when removed) */
  source: sourceStatusSchema.optional(),
});

/** Events the main side pushes to the UI. */
export const events = {
  /** throttled by the sender (a few per second at most) */
  'bulwark:job.progress': jobProgressSchema,
  'bulwark:job.state': jobStateEventSchema,
  /** a new alert was opened */
  'bulwark:alert.raised': alertSchema,
  /** an alert's condition resolved */
  'bulwark:alert.cleared': alertSchema,
  /** someone acknowledged an alert (other windows and tabs follow) */
  'bulwark:alert.acknowledged': alertSchema,
  /** a source was added, changed or removed, or its protection changed (a job, the watcher) */
  'bulwark:source.changed': sourceChangedEventSchema,
} as const satisfies Record<Prefixed, z.ZodType>;

export type Channels = typeof channels;
export type ChannelName = keyof Channels;
/** What a caller sends (before defaults are applied). */
export type RequestOf<C extends ChannelName> = z.input<Channels[C]['request']>;
/** What a handler receives (after the schema has parsed it). */
export type ParsedRequestOf<C extends ChannelName> = z.output<Channels[C]['request']>;
export type ResponseOf<C extends ChannelName> = z.output<Channels[C]['response']>;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventOf<E extends EventName> = z.output<Events[E]>;

export const channelNames = Object.freeze(Object.keys(channels)) as readonly ChannelName[];
export const eventNames = Object.freeze(Object.keys(events)) as readonly EventName[];

export function isChannelName(name: unknown): name is ChannelName {
  return typeof name === 'string' && Object.hasOwn(channels, name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.hasOwn(events, name);
}

/** The property of `window` under which the preload exposes the bridge. */
export const BRIDGE_KEY = 'bulwark';

/**
 * Everything the preload exposes to the page, and nothing more. `invoke` never rejects for a handler
 * failure (that comes back as `{ ok: false, error }`); it rejects only for a channel outside the contract
 * or a broken IPC link.
 */
export interface BulwarkBridge {
  invoke<C extends ChannelName>(channel: C, request: RequestOf<C>): Promise<Result<ResponseOf<C>>>;
  /** Subscribes to a contract event; returns the function that unsubscribes. */
  on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): () => void;
}
