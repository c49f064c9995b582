import { z } from 'zod';

import { lockModeSchema, targetVerdictSchema } from './model.ts';

/**
 * The answer of `targets.test`: the target self-test (src-main/engine/target/check.ts for S3; a write and
 * read-back for a folder) in plain words, for the "Add target" wizard and the Targets page. Kept apart
 * from ipc.ts so the channel declaration stays one line there.
 */

/** passed / failed: the check decided the verdict; warning: works, needs attention; info: a capability */
export const targetCheckStatusSchema = z.enum(['passed', 'failed', 'warning', 'skipped', 'info']);
export type TargetCheckStatus = z.infer<typeof targetCheckStatusSchema>;

export const targetTestCheckSchema = z.object({
  /** stable id of the check (e.g. "delete-version"), for tests and styling */
  id: z.string(),
  /** what was checked, in plain words ("Deleting a backup is refused") */
  title: z.string(),
  status: targetCheckStatusSchema,
  /** what the result means, in plain words */
  explanation: z.string(),
  /** what the server answered, for whoever sets up the storage (shown under "Technical details") */
  detail: z.string(),
});
export type TargetTestCheck = z.infer<typeof targetTestCheckSchema>;

/** The least-privilege permissions for the backup keys, ready to copy (JSON text for the policies). */
export const targetPolicySchema = z.object({
  /** a bucket policy, set by the bucket owner (replace the placeholder principal) */
  bucketPolicy: z.string(),
  /** the same statements as a user policy (AWS IAM, Wasabi, Ceph's IAM) */
  userPolicy: z.string(),
  b2Capabilities: z.array(z.string()),
  b2ForbiddenCapabilities: z.array(z.string()),
  /** how to apply it and what such keys can still do */
  explanation: z.string(),
});
export type TargetPolicy = z.infer<typeof targetPolicySchema>;

export const targetTestResultSchema = z.object({
  verdict: targetVerdictSchema,
  /** "Immutable", "Tamper-evident", "Not immutable with these credentials" */
  headline: z.string(),
  /** why, in one or two sentences */
  reason: z.string(),
  /** where: an absolute folder path or s3://bucket/prefix */
  location: z.string(),
  /** the lock mode tested (S3) */
  mode: lockModeSchema.optional(),
  testedAt: z.iso.datetime({ offset: true }),
  checks: z.array(targetTestCheckSchema),
  /** what to do, for a person (empty when nothing is needed) */
  advice: z.array(z.string()),
  /** present when the keys can do too much: the permissions to give them instead */
  policy: targetPolicySchema.optional(),
  /**
   * A Bulwark repository is already at the location (read without its password): the wizard offers to
   * connect to it. Its lock, where it has one.
   */
  existingRepository: z
    .object({ lock: z.object({ mode: lockModeSchema, days: z.number().int().nonnegative() }).optional() })
    .optional(),
});
export type TargetTestResult = z.infer<typeof targetTestResultSchema>;
