import { z } from 'zod';

import { jobSchema } from './model.ts';

/**
 * The channels of what an office sees and sets about keeping its backups: legal holds per snapshot
 * (`snapshots.legalHold`), each source's retention policy with a preview computed by the engine's own
 * forget (`retention.*`), and the upkeep the service runs by itself: forget after each backup, prune on a
 * schedule (which can be paused), and the daily lock check (`maintenance.*`). Spread into `channels` of
 * ipc.ts.
 */

const id = z.string().min(1).max(100);
const iso = z.iso.datetime({ offset: true });
const count = z.number().int().nonnegative();

const keepCount = (what: string) =>
  z
    .number(`How many ${what} to keep must be a number.`)
    .int(`How many ${what} to keep must be a whole number.`)
    .min(0, `How many ${what} to keep cannot be negative (0 switches this rule off).`)
    .max(10_000, `Keep at most 10 000 ${what}.`);

const lockDays = (what: string) =>
  z
    .number(`How long ${what} backups are protected must be a number of days.`)
    .int(`How long ${what} backups are protected must be a whole number of days.`)
    .min(0, `How long ${what} backups are protected cannot be negative.`)
    .max(
      36_525,
      `${what.charAt(0).toUpperCase()}${what.slice(1)} backups can be protected for at most 100 years.`,
    );

/** A retention policy as the engine applies it (engine/retention/policy.ts); days in the office's time zone. */
export const retentionPolicySchema = z.strictObject({
  keepLast: keepCount('most recent backups').optional(),
  keepHourly: keepCount('hourly backups').optional(),
  keepDaily: keepCount('daily backups').optional(),
  keepWeekly: keepCount('weekly backups').optional(),
  keepMonthly: keepCount('monthly backups').optional(),
  keepYearly: keepCount('yearly backups').optional(),
  keepWithinDays: keepCount('days of every backup').optional(),
  /** how long each kind of backup cannot be deleted, in days (daily ≤ weekly ≤ monthly ≤ yearly) */
  lockDays: z.strictObject({
    daily: lockDays('daily'),
    weekly: lockDays('weekly'),
    monthly: lockDays('monthly'),
    yearly: lockDays('yearly'),
  }),
  /** IANA time zone in which days, weeks, months and years are counted */
  timeZone: z.string().min(1).max(100),
});
export type RetentionPolicy = z.infer<typeof retentionPolicySchema>;

export const retentionTemplateIdSchema = z.enum([
  'office-files',
  'accounting-10y',
  'medical-records',
  'custom',
]);
export type RetentionTemplateId = z.infer<typeof retentionTemplateIdSchema>;

export const retentionTemplateSchema = z.object({
  id: retentionTemplateIdSchema,
  name: z.string(),
  /** what it does and who it is for, in plain words */
  description: z.string(),
  policy: retentionPolicySchema,
});
export type RetentionTemplate = z.infer<typeof retentionTemplateSchema>;

export const lockTierSchema = z.enum(['daily', 'weekly', 'monthly', 'yearly']);
export type LockTier = z.infer<typeof lockTierSchema>;

/** What the policy does with one existing snapshot. */
export const retentionPreviewItemSchema = z.object({
  snapshotId: z.string(),
  time: iso,
  /** keep: the policy keeps it; remove: removed by the next clean-up; locked: not kept, but protected until `lockEndsAt` */
  outcome: z.enum(['keep', 'remove', 'locked']),
  /** the longest period it is kept for (keep) */
  tier: lockTierSchema.optional(),
  /** when its protection ends (keep: after any longer lock the policy gives it; locked: what still protects it) */
  lockEndsAt: iso.optional(),
  /** the policy gives it a longer lock (a month's or a year's last backup) */
  lockedLonger: z.boolean().optional(),
  held: z.boolean(),
});
export type RetentionPreviewItem = z.infer<typeof retentionPreviewItemSchema>;

export const lockCheckSchema = z.object({
  checkedAt: iso,
  /** false: a folder or a bucket without Object Lock: there are no server locks to check */
  applicable: z.boolean(),
  ok: z.boolean(),
  snapshots: count,
  objectsChecked: count,
  /** objects missing, unlocked or locked for less than promised */
  problems: count,
  /** one sentence for people */
  summary: z.string(),
});
export type LockCheck = z.infer<typeof lockCheckSchema>;

export const maintenanceTargetSchema = z.object({
  targetId: z.string(),
  /** the last lock check that ran to the end */
  lockCheck: lockCheckSchema.optional(),
  /** the last attempt failed (the target could not be reached): why, in plain words */
  lockCheckError: z.string().optional(),
  nextLockCheckAt: iso.optional(),
  lastPruneAt: iso.optional(),
  /** what the last prune did, in plain words */
  lastPrune: z.string().optional(),
  nextPruneAt: iso.optional(),
});
export type MaintenanceTarget = z.infer<typeof maintenanceTargetSchema>;

export const maintenanceStatusSchema = z.object({
  prune: z.object({
    paused: z.boolean(),
    /** why (given when pausing, or an open incident) */
    reason: z.string().optional(),
    since: iso.optional(),
    everyDays: z.number().positive(),
  }),
  targets: z.array(maintenanceTargetSchema),
});
export type MaintenanceStatus = z.infer<typeof maintenanceStatusSchema>;

export const retentionChannels = {
  /**
   * Puts a legal hold on every object the snapshot needs (on: true) or lifts it (on: false); the snapshot
   * is then kept whatever its dates say. Needs an S3 target with Object Lock.
   */
  'bulwark:snapshots.legalHold': {
    request: z
      .strictObject({ sourceId: id.optional(), targetId: id.optional(), snapshotId: id, on: z.boolean() })
      .refine((r) => r.sourceId !== undefined || r.targetId !== undefined, {
        message: 'Say which folder or destination the backup belongs to.',
        path: ['sourceId'],
      }),
    response: z.object({
      snapshotId: z.string(),
      held: z.boolean(),
      /** objects the snapshot needs */
      objects: count,
      /** objects whose hold was lifted (0 when placing) */
      released: count,
      /** objects that stay held because another held backup needs them */
      keptHeld: count,
    }),
  },
  /** the source's retention policy in force (absent: its backups are never removed), and the templates */
  'bulwark:retention.get': {
    request: z.strictObject({ sourceId: id }),
    response: z.object({
      sourceId: z.string(),
      template: retentionTemplateIdSchema.optional(),
      policy: retentionPolicySchema.optional(),
      /** the policy in force, in plain sentences */
      description: z.array(z.string()),
      setAt: iso.optional(),
      templates: z.array(retentionTemplateSchema),
    }),
  },
  /**
   * What a policy would do with the source's existing snapshots, computed by the engine's forget in a dry
   * run (what `bulwark forget --dry-run` reports once the policy is set). Nothing is changed.
   */
  'bulwark:retention.preview': {
    request: z.strictObject({
      sourceId: id,
      template: retentionTemplateIdSchema,
      policy: retentionPolicySchema.optional(),
    }),
    response: z.object({
      policy: retentionPolicySchema,
      description: z.array(z.string()),
      /** when it was evaluated (the storage server's clock) */
      evaluatedAt: iso,
      /** newest first; at most 2 000 (`total` counts them all) */
      items: z.array(retentionPreviewItemSchema),
      total: count,
      counts: z.object({ keep: count, remove: count, locked: count }),
    }),
  },
  /** sets the source's policy (written to its target, in the audit log); applied after its next backup */
  'bulwark:retention.set': {
    request: z.strictObject({
      sourceId: id,
      template: retentionTemplateIdSchema,
      policy: retentionPolicySchema.optional(),
    }),
    response: z.object({
      template: retentionTemplateIdSchema,
      policy: retentionPolicySchema,
      description: z.array(z.string()),
    }),
  },
  /** the upkeep the service runs by itself: prune (and whether it is paused), the lock check per target */
  'bulwark:maintenance.status': {
    request: z.strictObject({}),
    response: maintenanceStatusSchema,
  },
  /** nothing is deleted by prune until resumePrune (an incident, an investigation) */
  'bulwark:maintenance.pausePrune': {
    request: z.strictObject({
      reason: z.string().trim().max(500, 'The reason is too long (at most 500 characters).').optional(),
    }),
    response: maintenanceStatusSchema,
  },
  'bulwark:maintenance.resumePrune': {
    request: z.strictObject({}),
    response: maintenanceStatusSchema,
  },
  /** checks now, from the storage server, that every backup on the target is locked as promised */
  'bulwark:maintenance.checkLocks': {
    request: z.strictObject({ targetId: id }),
    response: z.object({ job: jobSchema }),
  },
} as const;
