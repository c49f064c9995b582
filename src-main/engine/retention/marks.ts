/**
 * What every computer must know of prunes (DESIGN §2, two phases): each prune run writes one sealed,
 * write-once `prune/marks-<id>` object listing the packs it found unreferenced (marked), the marked packs
 * it found referenced again (unmarked), and the packs and index objects it deleted. A client reads the ones
 * it has not seen whenever it syncs its indexes:
 * - marks feed the next prune on any computer (a pack is deleted only if a prune marked it earlier), and
 *   tell a backup on a folder target which reused packs to check before it commits;
 * - deleted packs are dropped from the catalog and never learned again from an index object that still
 *   lists them, so no backup reuses their blobs; blobs that live in another pack too (a repack copied them)
 *   are learned again from the index objects (all are read once more after a drop).
 *
 * Also here: the `prune.paused` flag (ransomware alert, incident) that makes prune refuse to run.
 */
import type { Catalog } from '../catalog/catalog.ts';
import { BulwarkError, isBulwarkError } from '../errors.ts';
import { objectNames } from '../repo/format.ts';
import { getRecord } from '../repo/records.ts';
import type { Repository } from '../repo/repository.ts';

export interface PruneRecord {
  version: 1;
  id: string;
  /** when the prune ran (server clock, ISO) */
  time: string;
  host: string;
  marked: string[];
  unmarked: string[];
  deleted: string[];
  deletedIndexes: string[];
}

export const PRUNE_PAUSED = 'prune.paused';
const droppedFlag = (rid: number): string => `packs.dropped.${rid}`;

/** Reads the prune records this catalog has not seen, oldest first, and applies them. */
export async function syncPruneRecords(repo: Repository, signal?: AbortSignal): Promise<number> {
  const db = repo.catalog.db;
  const seen = db.prepare<[number, string], { x: number }>(
    'SELECT 1 AS x FROM prune_records WHERE rid = ? AND object = ?',
  );
  const fresh: { name: string; rec: PruneRecord | undefined }[] = [];
  for await (const o of repo.store.list('prune/', signal)) {
    if (seen.get(repo.rid, o.name)) continue;
    let rec: PruneRecord | undefined;
    try {
      rec = await getRecord<PruneRecord>(repo, 'prune', o.name, signal);
      if (o.name !== objectNames.pruneMarks(rec.id)) rec = undefined;
    } catch (e) {
      if (!isBulwarkError(e, 'CORRUPT') && !isBulwarkError(e, 'NOT_FOUND')) throw e;
    }
    fresh.push({ name: o.name, rec });
  }
  fresh.sort((a, b) => ((a.rec?.time ?? '') < (b.rec?.time ?? '') ? -1 : 1));
  for (const { name, rec } of fresh) {
    if (rec) applyPruneRecord(repo, rec);
    db.prepare('INSERT OR IGNORE INTO prune_records (rid, object) VALUES (?, ?)').run(repo.rid, name);
  }
  return fresh.length;
}

/** Applies one prune record to the catalog (also used by the prune that wrote it). */
export function applyPruneRecord(repo: Repository, rec: PruneRecord): void {
  const db = repo.catalog.db;
  const t = Date.parse(rec.time);
  const mark = db.prepare('INSERT OR IGNORE INTO prune_marks (rid, pack, marked_at) VALUES (?, ?, ?)');
  const unmark = db.prepare('DELETE FROM prune_marks WHERE rid = ? AND pack = ?');
  db.transaction(() => {
    for (const p of rec.marked) mark.run(repo.rid, p, t);
    for (const p of rec.unmarked) unmark.run(repo.rid, p);
  })();
  dropPacks(repo, rec.deleted, t);
  if (rec.deletedIndexes.length > 0) {
    const del = db.prepare('DELETE FROM locks WHERE rid = ? AND name = ?');
    for (const i of rec.deletedIndexes) del.run(repo.rid, objectNames.index(i));
  }
}

/**
 * Forgets packs that are gone from the repository: their blobs, their lock cache entry and any mark; they
 * are remembered as gone so an index object still listing them does not bring them back. When blobs were
 * dropped, every index object is read again on the next sync (a blob may also live in a surviving pack).
 * Returns how many blob locations were dropped.
 */
export function dropPacks(repo: Repository, packs: readonly string[], deletedAt: number): number {
  if (packs.length === 0) return 0;
  const db = repo.catalog.db;
  let blobs = 0;
  db.transaction(() => {
    const gone = db.prepare('INSERT OR IGNORE INTO gone_packs (rid, pack, deleted_at) VALUES (?, ?, ?)');
    const delBlobs = db.prepare('DELETE FROM blobs WHERE rid = ? AND pack = ?');
    const delPack = db.prepare('DELETE FROM packs WHERE rid = ? AND id = ?');
    const delLock = db.prepare('DELETE FROM locks WHERE rid = ? AND name = ?');
    const delMark = db.prepare('DELETE FROM prune_marks WHERE rid = ? AND pack = ?');
    for (const p of packs) {
      gone.run(repo.rid, p, deletedAt);
      blobs += delBlobs.run(repo.rid, p).changes;
      delPack.run(repo.rid, p);
      delLock.run(repo.rid, objectNames.pack(p));
      delMark.run(repo.rid, p);
    }
    if (blobs > 0) {
      db.prepare('DELETE FROM indexes WHERE rid = ?').run(repo.rid);
      setFlag(repo.catalog, droppedFlag(repo.rid), String(deletedAt), deletedAt);
    }
  })();
  return blobs;
}

/** Packs some prune deleted (never to be learned again from an old index object). */
export function gonePacks(repo: Repository): Set<string> {
  return new Set(
    repo.catalog.db
      .prepare<[number], { pack: string }>('SELECT pack FROM gone_packs WHERE rid = ?')
      .all(repo.rid)
      .map((r) => r.pack),
  );
}

/** Marked packs and when they were first marked (ms, server clock of the prune that marked them). */
export function prunedMarks(repo: Repository): Map<string, number> {
  return new Map(
    repo.catalog.db
      .prepare<[number], { pack: string; marked_at: number }>(
        'SELECT pack, marked_at FROM prune_marks WHERE rid = ?',
      )
      .all(repo.rid)
      .map((r) => [r.pack, r.marked_at]),
  );
}

/** When this catalog last dropped blobs of deleted packs (ms), if ever. */
export function lastPackDrop(repo: Repository): number | undefined {
  const v = getFlag(repo.catalog, droppedFlag(repo.rid));
  return v === undefined ? undefined : Number(v.value);
}

// ---- flags -------------------------------------------------------------------------------------------

export function setFlag(catalog: Catalog, name: string, value: string | null, at: number): void {
  if (value === null) catalog.db.prepare('DELETE FROM flags WHERE name = ?').run(name);
  else
    catalog.db
      .prepare(
        'INSERT INTO flags (name, value, set_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value, set_at = excluded.set_at',
      )
      .run(name, value, at);
}

export function getFlag(catalog: Catalog, name: string): { value: string; setAt: number } | undefined {
  const r = catalog.db
    .prepare<[string], { value: string; set_at: number }>('SELECT value, set_at FROM flags WHERE name = ?')
    .get(name);
  return r && { value: r.value, setAt: r.set_at };
}

/**
 * Pauses prune (e.g. on a ransomware signal: DESIGN §5 "prune is paused") with a reason shown to whoever
 * tries to prune; `null` resumes it. The flag lives in the catalog of this computer.
 */
export function setPrunePaused(catalog: Catalog, reason: string | null, at: Date): void {
  setFlag(catalog, PRUNE_PAUSED, reason === null ? null : reason || 'paused', at.getTime());
}

/** Why prune is paused, or undefined: the `prune.paused` flag, or an open ransomware alert. */
export function prunePausedReason(catalog: Catalog): string | undefined {
  const f = getFlag(catalog, PRUNE_PAUSED);
  if (f) return f.value;
  // A CLI catalog has no alerts table (only the service's has): nothing can have been raised there.
  const hasAlerts = catalog.db
    .prepare<[], { x: number }>("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'alerts'")
    .get();
  if (!hasAlerts) return undefined;
  const alert = catalog.db
    .prepare<[], { text: string }>(
      "SELECT text FROM alerts WHERE kind LIKE 'ransomware%' AND cleared_at IS NULL ORDER BY id DESC LIMIT 1",
    )
    .get();
  return alert ? `ransomware alert: ${alert.text}` : undefined;
}

/** Throws LOCKED when prune is paused. */
export function assertPruneAllowed(catalog: Catalog): void {
  const reason = prunePausedReason(catalog);
  if (reason !== undefined) {
    throw new BulwarkError('LOCKED', `prune is paused: ${reason}`, {
      hint:
        'Nothing is deleted while an alert is open or prune is paused. Check the backups and the alert first; ' +
        'prune runs again once it is cleared.',
    });
  }
}
