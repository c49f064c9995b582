/**
 * Tier promotions (DESIGN §3 "per-tier lock periods"). When `forget` finds that the retention policy keeps
 * a snapshot at a tier that needs a longer lock than it has, it extends the locks of the snapshot's whole
 * closure and records the promise as a write-once sealed object `tiers/<snapshot>-<tier>-<until>` (locked
 * itself until that date), cached in the catalog table `snapshot_tiers`. `verify --locks` then checks each
 * snapshot against the later of its manifest's retain-until and its tier date, also after a rebuild, and
 * forget/prune never delete a snapshot before it. A promise is never withdrawn: a later, shorter policy
 * does not shorten it (as S3 retention cannot be shortened).
 */
import { isBulwarkError } from '../errors.ts';
import { objectNames } from '../repo/format.ts';
import { getRecord, putRecord, stamp } from '../repo/records.ts';
import type { Repository } from '../repo/repository.ts';
import type { LockTier } from './policy.ts';

export interface TierRecord {
  version: 1;
  snapshot: string;
  tier: LockTier;
  /** protected until (ISO): snapshot time + the tier's lock period */
  until: string;
  /** when it was promoted (server clock, ISO) */
  time: string;
  lockDays: number;
}

export interface SnapshotTier {
  tier: LockTier;
  /** ms */
  until: number;
}

const insertSql =
  'INSERT OR IGNORE INTO snapshot_tiers (rid, object, snapshot, tier, until) VALUES (?, ?, ?, ?, ?)';

/** Writes (once) and caches a tier promotion. Returns the object name. */
export async function recordTier(
  repo: Repository,
  rec: TierRecord,
  lockUntil: Date | undefined,
  signal?: AbortSignal,
): Promise<string> {
  const name = objectNames.tier(rec.snapshot, rec.tier, stamp(new Date(rec.until)));
  await putRecord(repo, 'tier', name, rec, lockUntil, signal); // false: recorded before, same promise
  repo.catalog.db.prepare(insertSql).run(repo.rid, name, rec.snapshot, rec.tier, Date.parse(rec.until));
  return name;
}

/** Learns tier promotions recorded elsewhere (another computer, before a catalog was lost). */
export async function syncTiers(repo: Repository, signal?: AbortSignal): Promise<number> {
  const db = repo.catalog.db;
  const known = db.prepare<[number, string], { x: number }>(
    'SELECT 1 AS x FROM snapshot_tiers WHERE rid = ? AND object = ?',
  );
  const insert = db.prepare(insertSql);
  let fresh = 0;
  for await (const o of repo.store.list('tiers/', signal)) {
    if (known.get(repo.rid, o.name)) continue;
    let rec: TierRecord;
    try {
      rec = await getRecord<TierRecord>(repo, 'tier', o.name, signal);
    } catch (e) {
      if (isBulwarkError(e, 'CORRUPT') || isBulwarkError(e, 'NOT_FOUND')) continue;
      throw e;
    }
    const until = Date.parse(rec.until);
    // the name must say what the sealed contents say: a record cannot be passed off for another snapshot
    if (
      !Number.isFinite(until) ||
      o.name !== objectNames.tier(rec.snapshot, rec.tier, stamp(new Date(until)))
    )
      continue;
    insert.run(repo.rid, o.name, rec.snapshot, rec.tier, until);
    fresh++;
  }
  return fresh;
}

/** The longest tier promise of each snapshot (from the catalog; call syncTiers first). */
export function snapshotTiers(repo: Repository): Map<string, SnapshotTier> {
  const rows = repo.catalog.db
    .prepare<[number], { snapshot: string; tier: LockTier; until: number }>(
      'SELECT snapshot, tier, until FROM snapshot_tiers WHERE rid = ? ORDER BY until',
    )
    .all(repo.rid);
  const out = new Map<string, SnapshotTier>();
  for (const r of rows) out.set(r.snapshot, { tier: r.tier, until: r.until }); // ordered: the latest wins
  return out;
}
