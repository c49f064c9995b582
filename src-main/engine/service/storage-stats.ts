import type { Catalog } from '../catalog/catalog.ts';
import type { Clock } from '../clock.ts';
import type { Repository } from '../repo/repository.ts';
import type { ServiceConfig } from './sources.ts';

/**
 * The storage history of a target (stats.storage): per day, the size of its backups and the new data the
 * backups of that day added. Kept from each run's statistics (runs.stats: the snapshot's bytesAdded, and
 * since this version the target and the repository's size after the run), so it costs no request to the
 * target and survives restarts. Days are the service's local days.
 */

/** What the catalog knows of a repository's size: its packs (the rest, indexes and records, is small). */
export function repositoryBytes(repo: Repository): number {
  return ridBytes(repo.catalog, repo.rid);
}

function ridBytes(catalog: Catalog, rid: number): number {
  return (
    catalog.db
      .prepare<[number], { bytes: number | null }>('SELECT SUM(size) AS bytes FROM packs WHERE rid = ?')
      .get(rid)?.bytes ?? 0
  );
}

export interface StorageDay {
  /** YYYY-MM-DD, local */
  date: string;
  /** the size at the end of the day (the last good run's, carried over days without runs); null: unknown */
  repositoryBytes: number | null;
  bytesAdded: number;
  backups: number;
}

export interface StorageHistory {
  targetId: string;
  /** the size now, from the catalog; null when this catalog never opened the target's repository */
  currentBytes: number | null;
  days: StorageDay[];
}

interface RunStats {
  snapshot?: { bytesAdded?: unknown; repositoryBytes?: unknown; targetId?: unknown };
}

const DAY = 24 * 60 * 60 * 1000;

export function localDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** The first moment of the local day `days - 1` days before today. */
function startOfWindow(now: number, days: number): number {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - (days - 1));
  return d.getTime();
}

export function storageHistory(
  deps: { catalog: Catalog; config: ServiceConfig; clock: Clock },
  targetId: string,
  days = 30,
): StorageHistory {
  const target = deps.config.target(targetId); // NOT_FOUND for an unknown target
  const now = deps.clock.now().getTime();
  const since = startOfWindow(now, days);
  const targetOf = new Map(deps.config.sources().map((s) => [s.id, s.targetId]));
  const rows = deps.catalog.db
    .prepare<[number], { finished_at: number; source: string | null; stats: string | null }>(
      `SELECT finished_at, source, stats FROM runs
       WHERE kind = 'backup' AND state = 'succeeded' AND finished_at IS NOT NULL AND finished_at >= ?
       ORDER BY finished_at, id`,
    )
    .all(since - 400 * DAY); // the year before the window: the size the first days carry over
  const byDay = new Map<string, StorageDay>();
  let carried: number | null = null;
  const num = (v: unknown): number | undefined =>
    typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  for (const r of rows) {
    let stats: RunStats;
    try {
      stats = (r.stats === null ? {} : JSON.parse(r.stats)) as RunStats;
    } catch {
      continue; // a run an older version recorded differently says nothing about sizes
    }
    const snap = stats.snapshot ?? {};
    // runs recorded before the target was kept with them: the source's target now
    const tid = typeof snap.targetId === 'string' ? snap.targetId : (targetOf.get(r.source ?? '') ?? null);
    if (tid !== targetId) continue;
    const size = num(snap.repositoryBytes);
    if (r.finished_at < since) {
      if (size !== undefined) carried = size;
      continue;
    }
    const key = localDay(r.finished_at);
    const day = byDay.get(key) ?? { date: key, repositoryBytes: null, bytesAdded: 0, backups: 0 };
    day.bytesAdded += num(snap.bytesAdded) ?? 0;
    day.backups++;
    if (size !== undefined) day.repositoryBytes = size;
    byDay.set(key, day);
  }
  const out: StorageDay[] = [];
  const cursor = new Date(since);
  for (let i = 0; i < days; i++) {
    const key = localDay(cursor.getTime());
    const day = byDay.get(key) ?? { date: key, repositoryBytes: null, bytesAdded: 0, backups: 0 };
    if (day.repositoryBytes === null) day.repositoryBytes = carried;
    carried = day.repositoryBytes;
    out.push(day);
    cursor.setDate(cursor.getDate() + 1);
  }
  let currentBytes: number | null = null;
  if (target.repoId !== null) {
    const rid = deps.catalog.db
      .prepare<[string], { rid: number }>('SELECT rid FROM repositories WHERE repo_id = ?')
      .get(target.repoId)?.rid;
    if (rid !== undefined) currentBytes = ridBytes(deps.catalog, rid);
  }
  return { targetId, currentBytes, days: out };
}
