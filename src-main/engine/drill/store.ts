import type { Catalog } from '../catalog/catalog.ts';

/** Whether the estimated time of a full restore fits the recovery time objective. */
export type RtoVerdict = 'met' | 'exceeded' | 'unknown';

/** What one restore drill tested and found (kept in the catalog's drills table). */
export interface DrillRecord {
  id: number;
  /** the repository's config id and where it was */
  repositoryId: string;
  location: string;
  /** the snapshot's source key (`service:<id>` for the service's sources) */
  source: string;
  /** the service's source, when the drill was one of its jobs */
  sourceId: string | null;
  /** for people: the source's name, or its folders */
  sourceName: string;
  /** null when the drill could not even find a snapshot to test */
  snapshotId: string | null;
  snapshotTime: string | null;
  /** how often drills run for this source, for people ("weekly", "every 3 days", "by hand") */
  schedule: string;
  /** who started it */
  trigger: 'manual' | 'schedule';
  /** a sample of the files, or every file */
  mode: 'sample' | 'full';
  startedAt: number;
  finishedAt: number;
  /** every tested file was restored and matched the backup byte for byte */
  passed: boolean;
  filesTested: number;
  bytesTested: number;
  /** the whole snapshot */
  filesTotal: number;
  bytesTotal: number;
  /** files in the sample because they changed since the previous drill */
  changedFiles: number;
  /** files that did not come back intact, by path in the snapshot (at most MAX_FAILURES kept) */
  failures: { path: string; message: string }[];
  /** time the test restore took */
  restoreMs: number;
  /** bytes restored per second */
  throughput: number;
  /** how long restoring the whole snapshot would take, from what was measured (null: nothing measured) */
  estimatedFullSeconds: number | null;
  rtoMinutes: number | null;
  rtoVerdict: RtoVerdict;
  /** the drill could not run to the end: why */
  error: string | null;
}

export type NewDrillRecord = Omit<DrillRecord, 'id'>;

/** Failures kept per drill (the rest are counted in the message of the last one). */
export const MAX_FAILURES = 500;

interface DrillRow {
  id: number;
  repo_id: string;
  location: string;
  source: string;
  source_id: string | null;
  source_name: string;
  snapshot_id: string | null;
  snapshot_time: string | null;
  schedule: string;
  trigger: string;
  mode: string;
  started_at: number;
  finished_at: number;
  passed: number;
  files_tested: number;
  bytes_tested: number;
  files_total: number;
  bytes_total: number;
  changed_files: number;
  failures: string;
  restore_ms: number;
  throughput: number;
  estimated_full_seconds: number | null;
  rto_minutes: number | null;
  rto_verdict: string;
  error: string | null;
}

const toRecord = (r: DrillRow): DrillRecord => ({
  id: r.id,
  repositoryId: r.repo_id,
  location: r.location,
  source: r.source,
  sourceId: r.source_id,
  sourceName: r.source_name,
  snapshotId: r.snapshot_id,
  snapshotTime: r.snapshot_time,
  schedule: r.schedule,
  trigger: r.trigger === 'schedule' ? 'schedule' : 'manual',
  mode: r.mode === 'full' ? 'full' : 'sample',
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  passed: r.passed === 1,
  filesTested: r.files_tested,
  bytesTested: r.bytes_tested,
  filesTotal: r.files_total,
  bytesTotal: r.bytes_total,
  changedFiles: r.changed_files,
  failures: JSON.parse(r.failures) as { path: string; message: string }[],
  restoreMs: r.restore_ms,
  throughput: r.throughput,
  estimatedFullSeconds: r.estimated_full_seconds,
  rtoMinutes: r.rto_minutes,
  rtoVerdict: r.rto_verdict === 'met' ? 'met' : r.rto_verdict === 'exceeded' ? 'exceeded' : 'unknown',
  error: r.error,
});

/** Stores a drill's result; returns it with its id. */
export function recordDrill(catalog: Catalog, d: NewDrillRecord): DrillRecord {
  const r = catalog.db
    .prepare(
      `INSERT INTO drills (repo_id, location, source, source_id, source_name, snapshot_id, snapshot_time, schedule,
         trigger, mode, started_at, finished_at, passed, files_tested, bytes_tested, files_total, bytes_total,
         changed_files, failures, restore_ms, throughput, estimated_full_seconds, rto_minutes, rto_verdict, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      d.repositoryId,
      d.location,
      d.source,
      d.sourceId,
      d.sourceName,
      d.snapshotId,
      d.snapshotTime,
      d.schedule,
      d.trigger,
      d.mode,
      d.startedAt,
      d.finishedAt,
      d.passed ? 1 : 0,
      d.filesTested,
      d.bytesTested,
      d.filesTotal,
      d.bytesTotal,
      d.changedFiles,
      JSON.stringify(d.failures.slice(0, MAX_FAILURES)),
      Math.round(d.restoreMs),
      d.throughput,
      d.estimatedFullSeconds,
      d.rtoMinutes,
      d.rtoVerdict,
      d.error,
    );
  return { ...d, failures: d.failures.slice(0, MAX_FAILURES), id: Number(r.lastInsertRowid) };
}

/** Drills, newest first; filtered by repository, source key or service source. */
export function listDrills(
  catalog: Catalog,
  filter: { repositoryId?: string; source?: string; sourceId?: string; limit?: number } = {},
): DrillRecord[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (filter.repositoryId !== undefined) {
    where.push('repo_id = ?');
    args.push(filter.repositoryId);
  }
  if (filter.source !== undefined) {
    where.push('source = ?');
    args.push(filter.source);
  }
  if (filter.sourceId !== undefined) {
    where.push('source_id = ?');
    args.push(filter.sourceId);
  }
  args.push(filter.limit ?? 100);
  return catalog.db
    .prepare<(string | number)[], DrillRow>(
      `SELECT * FROM drills ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY started_at DESC, id DESC LIMIT ?`,
    )
    .all(...args)
    .map(toRecord);
}

/** The newest drill of a source key in a repository that tested a snapshot (for "changed since"). */
export function lastDrillOf(catalog: Catalog, repositoryId: string, source: string): DrillRecord | undefined {
  const r = catalog.db
    .prepare<[string, string], DrillRow>(
      `SELECT * FROM drills WHERE repo_id = ? AND source = ? AND snapshot_id IS NOT NULL
       ORDER BY started_at DESC, id DESC LIMIT 1`,
    )
    .get(repositoryId, source);
  return r && toRecord(r);
}
