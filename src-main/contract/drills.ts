import { z } from 'zod';

import { jobSchema } from './model.ts';

/**
 * Restore drills (`drills.*`): a test restore of a sample of a source's latest backup (or all of it) into a
 * temporary folder, every byte checked, the speed measured and the time of a full restore estimated against
 * the source's RTO. Spread into `channels` of ipc.ts.
 */

const id = z.string().min(1).max(100);
const iso = z.iso.datetime({ offset: true });
const count = z.number().int().nonnegative();

export const drillSchema = z.object({
  id: z.number().int().positive(),
  /** the service's source (absent: a drill run from the command line) */
  sourceId: z.string().optional(),
  sourceName: z.string(),
  /** where the backups are */
  location: z.string(),
  /** the backup tested (absent when the drill could not even start) */
  snapshotId: z.string().optional(),
  snapshotTime: iso.optional(),
  /** "weekly", "every 3 days", "by hand" */
  schedule: z.string(),
  trigger: z.enum(['manual', 'schedule']),
  /** a sample of the files, or all of them */
  mode: z.enum(['sample', 'full']),
  startedAt: iso,
  finishedAt: iso,
  /** every tested file came back intact */
  passed: z.boolean(),
  filesTested: count,
  bytesTested: count,
  filesTotal: count,
  bytesTotal: count,
  /** files tested because they changed since the previous drill */
  changedFiles: count,
  /** files that did not come back intact (path in the backup, and why) */
  failures: z.array(z.object({ path: z.string(), message: z.string() })),
  restoreSeconds: z.number().nonnegative(),
  /** bytes per second */
  throughput: z.number().nonnegative(),
  /** how long a full restore would take (absent: nothing was measured) */
  estimatedFullSeconds: z.number().nonnegative().optional(),
  rtoMinutes: z.number().positive().optional(),
  rtoVerdict: z.enum(['met', 'exceeded', 'unknown']),
  /** the drill could not run: why */
  error: z.string().optional(),
});
export type Drill = z.infer<typeof drillSchema>;

export const drillChannels = {
  /** queues a restore drill of the source now (merged with one already queued); its job kind is `drill` */
  'bulwark:drills.run': {
    request: z.strictObject({ sourceId: id }),
    response: z.object({ job: jobSchema }),
  },
  /** drills, newest first (of one source, or of all) */
  'bulwark:drills.list': {
    request: z.strictObject({
      sourceId: id.optional(),
      limit: z.number().int().min(1).max(1000).optional(),
    }),
    response: z.object({ drills: z.array(drillSchema) }),
  },
  /**
   * The printable report an auditor can file, as one self-contained HTML page (no script, nothing loaded
   * from elsewhere): the app shows it in a new window to print or save.
   */
  'bulwark:drills.report': {
    request: z.strictObject({
      sourceId: id.optional(),
      limit: z.number().int().min(1).max(1000).optional(),
    }),
    response: z.object({ html: z.string(), fileName: z.string() }),
  },
} as const;
