import { z } from 'zod';

import {
  alertSchema,
  jobKindSchema,
  jobProgressSchema,
  jobReasonSchema,
  jobSchema,
  jobStateSchema,
  lockModeSchema,
  repositoryInfoSchema,
  rpoStateSchema,
  runSummarySchema,
  snapshotSummarySchema,
  sourceStatusSchema,
  targetSchema,
} from './model.ts';
import { resultErrorSchema, type Result } from './result.ts';

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
/** An absolute path: `/…` (POSIX), `C:\…` or `C:/…` (Windows), `\\server\share…` (UNC). */
const absolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => /^(\/|[A-Za-z]:[\\/]|\\\\[^\\])/.test(p), 'must be an absolute path')
  .refine((p) => !p.includes('\0'), 'must not contain NUL');
const glob = z.string().min(1).max(1000);
/** a repository password or an access key: sent to the main side, never sent back */
const secret = z.string().min(1).max(1024);

const sourceFields = {
  name: z.string().trim().min(1).max(200),
  paths: z.array(absolutePath).min(1).max(100),
  include: z.array(glob).max(1000),
  exclude: z.array(glob).max(1000),
  targetId: id,
  rpoMinutes: z.number().positive().max(525_600),
  quietSeconds: z.number().min(0).max(86_400),
  rescanMinutes: z.number().positive().max(525_600),
  enabled: z.boolean(),
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
});

const targetCommon = {
  name: z.string().trim().min(1).max(200).optional(),
  /** the repository password (a new repository is created with it) */
  password: secret,
  /** create the repository when the location holds none (default true) */
  initialize: z.boolean().optional(),
  /** bandwidth limit for this target, bytes per second */
  bytesPerSecond: z.number().int().positive().optional(),
};

/** A folder (local disk or mounted NAS share) or an S3 bucket; the secrets are kept on the main side. */
export const targetAddSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('fs'), path: absolutePath, ...targetCommon }),
  z
    .strictObject({
      kind: z.literal('s3'),
      bucket: z
        .string()
        .min(3)
        .max(63)
        .regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, 'must be a valid S3 bucket name'),
      prefix: z
        .string()
        .max(512)
        .refine((p) => !p.includes('..') && !p.startsWith('/'), 'must be a relative folder in the bucket')
        .optional(),
      /** S3-compatible servers (Ceph, MinIO, a NAS, Wasabi, B2): their URL */
      endpoint: z.url({ protocol: /^https?$/ }).optional(),
      region: z.string().min(1).max(100).optional(),
      /** without keys the service uses its environment's (AWS_* variables, ~/.aws) */
      accessKeyId: secret.optional(),
      secretAccessKey: secret.optional(),
      /** Object Lock for a repository created here (the bucket must have Object Lock enabled) */
      objectLock: z
        .strictObject({ mode: lockModeSchema, days: z.number().int().min(1).max(36_500) })
        .optional(),
      ...targetCommon,
    })
    .refine((t) => (t.accessKeyId === undefined) === (t.secretAccessKey === undefined), {
      message: 'give both accessKeyId and secretAccessKey, or neither',
      path: ['secretAccessKey'],
    }),
]);

export const channels = {
  /** name and version of the running app (works before any repository is configured) */
  'bulwark:app.version': { request: noArgs, response: appVersionSchema },
  /** the open repository; fails with REPO_NOT_FOUND when none is configured */
  'bulwark:repo.info': { request: noArgs, response: repositoryInfoSchema },
  /** snapshots in the open repository, newest first */
  'bulwark:snapshots.list': {
    request: z.strictObject({
      /** only snapshots of this configured source */
      source: z.string().min(1).optional(),
      /** only snapshots the service made of this source (sources.list) */
      sourceId: id.optional(),
      limit: z.number().int().min(1).max(10_000).optional(),
    }),
    response: z.object({ snapshots: z.array(snapshotSummarySchema) }),
  },

  // ---- the unattended service ----
  /** everything the dashboard needs at once: sources with their protection, targets, pause, RPO counts */
  'bulwark:service.status': {
    request: noArgs,
    response: z.object({
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
