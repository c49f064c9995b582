/**
 * `prune`: frees the space of data no live snapshot needs, in two phases (DESIGN §2), never fighting a lock.
 *
 * 1. References: every blob of every live snapshot (trees walked through the catalog's tree cache).
 * 2. Packs holding no referenced blob are MARKED (catalog `prune_marks` and one write-once
 *    `prune/marks-<id>` object per run, so every computer sees the mark). A pack is deleted only by a LATER
 *    prune, if an earlier prune marked it at least `graceMs` ago, it is still unreferenced, and its lock has
 *    expired by the server's clock (a HEAD right before: a delete is never sent for a locked or held
 *    object). Packs no index lists (a backup still running, or one killed) wait `orphanGraceMs` after upload.
 * 3. Partly used packs whose lock has expired (repacking a locked pack frees nothing) and that are at least
 *    `repackUnused` unused are REPACKED: their live blobs are copied (still sealed, verified on the way) into
 *    new packs with an index, and the old pack is only marked.
 * 4. An index object listing deleted packs is replaced by one listing its surviving packs, and deleted once
 *    its own lock has expired.
 * Right before marking and deleting, snapshots and indexes are synced again and any snapshot committed
 * meanwhile counts as live. A backup that reused a pack deleted after that re-sync fails its
 * extend-before-commit step (or, on a folder, its check of marked packs) and stores those blobs again
 * (backup.ts, DECISIONS "Concurrent prune"). On a folder the re-sync, the deletes and the prune record run
 * under the commit lease that a backup holds from that check to its commit (DECISIONS "Folder targets:
 * the commit lease"), so no backup commits in between. Prune refuses to run while `prune.paused` is set or a
 * ransomware alert is open (marks.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordAudit } from '../audit/audit.ts';
import { BulwarkError, isBulwarkError } from '../errors.ts';
import { DAY_MS } from '../locks/closure.ts';
import {
  COMMIT_LEASE,
  objectNames,
  packIdFromName,
  lastSegment,
  type PackedBlob,
  type SnapshotManifest,
} from '../repo/format.ts';
import { PackWriter, type FinishedPack } from '../repo/pack.ts';
import { folderLease, type LeaseHolder } from '../storage/fs.ts';
import { putRecord, recordLock } from '../repo/records.ts';
import { newObjectId, type Repository } from '../repo/repository.ts';
import {
  applyPruneRecord,
  assertPruneAllowed,
  dropPacks,
  getFlag,
  gonePacks,
  prunedMarks,
  setFlag,
  type PruneRecord,
} from './marks.ts';

export interface PruneOptions {
  /** only report what would happen */
  dryRun?: boolean;
  /** an earlier prune's mark must be at least this old (server clock) before its pack is deleted; default 1 h */
  graceMs?: number;
  /** a pack no index lists must be at least this old before it is deleted (a backup may still run); default 7 days */
  orphanGraceMs?: number;
  /** repack a partly used pack when at least this fraction of its bytes is unused; default 0.25 (> 1: never) */
  repackUnused?: number;
  /** where repacked packs are built (default: the OS temp dir) */
  tmpDir?: string;
  /** size at which a repacked pack is closed (default 32 MiB) */
  packTarget?: number;
  /** read every index object to find those that list deleted packs (default: only the ones the catalog names) */
  fullIndexScan?: boolean;
  actor?: string;
  signal?: AbortSignal;
  /** folder targets: called when the commit lease is busy (a backup is committing), before waiting for it */
  onWait?: (holder: LeaseHolder) => void;
  /** folder targets: how long to wait for the commit lease (default storage/fs.ts DEFAULT_LEASE_WAIT_MS) */
  leaseWaitMs?: number;
}

export interface PruneLocked {
  object: string;
  /** retain-until still ahead (ISO), if a date protects it */
  until?: string;
  held: boolean;
  why: 'unreferenced' | 'repack' | 'index';
}

export interface PruneResult {
  dryRun: boolean;
  serverTime: string;
  snapshots: number;
  /** packs in the repository (and their bytes) before this prune */
  packs: number;
  bytes: number;
  /** packs holding a blob some live snapshot needs */
  referencedPacks: number;
  /** packs marked by this run (dry run: that would be) */
  marked: string[];
  /** packs an earlier prune marked that a snapshot needs again */
  unmarked: string[];
  /** deleted by this run (dry run: would be) */
  deleted: { object: string; size: number }[];
  /** would be deleted or repacked, but still locked or held: kept, no delete sent */
  locked: PruneLocked[];
  /** marked, but the mark is too recent, or an unindexed pack too young, to delete yet */
  waiting: { pack: string; deletableFrom: string }[];
  repacked: { from: string; to: string[]; blobs: number; bytes: number }[];
  indexesWritten: string[];
  indexesDeleted: string[];
  /** delete requests sent (each for an object checked unlocked just before) */
  deleteCalls: number;
  /** bytes of the objects deleted */
  bytesFreed: number;
}

interface PackState {
  id: string;
  size: number;
  modified?: Date;
  blobs: PackedBlob[];
  referencedBytes: number;
  referencedBlobs: PackedBlob[];
  indexed: boolean;
}

const HOUR_MS = 3_600_000;

/** Walks live snapshots' trees, adding every blob id (trees and contents) to `ctx.blobs`. */
async function collectReferences(
  repo: Repository,
  snaps: readonly SnapshotManifest[],
  ctx: { blobs: Set<string>; trees: Set<string> },
  signal?: AbortSignal,
): Promise<void> {
  const walk = async (treeId: string): Promise<void> => {
    if (ctx.trees.has(treeId)) return;
    ctx.trees.add(treeId);
    ctx.blobs.add(treeId);
    const tree = await repo.loadTree(treeId, signal);
    for (const n of tree.nodes) {
      if (n.content) for (const b of n.content) ctx.blobs.add(b);
      if (n.subtree) await walk(n.subtree);
    }
  };
  for (const s of snaps) {
    try {
      await walk(s.tree);
    } catch (e) {
      if (isBulwarkError(e, 'CANCELED')) throw e;
      throw new BulwarkError(
        'REPO_DAMAGED',
        `cannot prune: snapshot ${s.id.slice(0, 8)} cannot be read (${e instanceof Error ? e.message : String(e)})`,
        {
          cause: e,
          hint: 'Prune deletes nothing while it cannot tell what the snapshots need. Run `bulwark verify`.',
        },
      );
    }
  }
}

/** Whether an object may be deleted now: its server lock, the lock the catalog recorded, legal hold. */
async function lockState(
  repo: Repository,
  name: string,
  now: number,
): Promise<{ gone: boolean; locked: boolean; until?: number; held: boolean }> {
  let until = repo.catalog.retention(repo.rid, [name]).get(name) ?? 0;
  // a hold Bulwark placed counts even where the server does not report holds
  let held =
    repo.catalog.db
      .prepare<[number, string], { h: number }>(
        'SELECT legal_hold AS h FROM locks WHERE rid = ? AND name = ?',
      )
      .get(repo.rid, name)?.h === 1;
  try {
    const info = await repo.store.head(name);
    until = Math.max(until, info.retainUntil?.getTime() ?? 0);
    held ||= info.legalHold === true;
  } catch (e) {
    if (isBulwarkError(e, 'NOT_FOUND')) return { gone: true, locked: false, held: false };
    throw e;
  }
  const locked = until > now || held;
  return { gone: false, locked, ...(until > now ? { until } : {}), held };
}

/** Two-phase prune (see the module comment). */
export async function prune(repo: Repository, opts: PruneOptions = {}): Promise<PruneResult> {
  const { store, catalog, rid } = repo;
  const signal = opts.signal;
  const dryRun = opts.dryRun === true;
  assertPruneAllowed(catalog);
  await repo.checkConfig();
  if (!dryRun) repo.assertLockInvariant();
  const graceMs = opts.graceMs ?? HOUR_MS;
  const orphanGraceMs = opts.orphanGraceMs ?? 7 * DAY_MS;
  const repackUnused = opts.repackUnused ?? 0.25;
  const start = await store.serverTime();
  const startMs = start.getTime();

  await repo.syncIndexes(signal);
  let snaps = await repo.syncSnapshots(signal);
  const refs = { blobs: new Set<string>(), trees: new Set<string>() };
  await collectReferences(repo, snaps, refs, signal);

  const result: PruneResult = {
    dryRun,
    serverTime: start.toISOString(),
    snapshots: snaps.length,
    packs: 0,
    bytes: 0,
    referencedPacks: 0,
    marked: [],
    unmarked: [],
    deleted: [],
    locked: [],
    waiting: [],
    repacked: [],
    indexesWritten: [],
    indexesDeleted: [],
    deleteCalls: 0,
    bytesFreed: 0,
  };

  // Every pack in the repository, with what the catalog knows of its blobs.
  const indexedPacks = new Set(
    catalog
      .packs(rid)
      .filter((p) => p.indexId !== null)
      .map((p) => p.id),
  );
  const packs = new Map<string, PackState>();
  for await (const o of store.list('packs/', signal)) {
    const id = packIdFromName(o.name);
    if (!id) continue;
    packs.set(id, {
      id,
      size: o.size,
      ...(o.modified ? { modified: o.modified } : {}),
      blobs: [],
      referencedBytes: 0,
      referencedBlobs: [],
      indexed: indexedPacks.has(id),
    });
    result.packs++;
    result.bytes += o.size;
  }
  const classify = (): void => {
    for (const p of packs.values()) {
      p.blobs = catalog.packBlobs(rid, p.id);
      p.referencedBlobs = p.blobs.filter((b) => refs.blobs.has(b.id));
      p.referencedBytes = p.referencedBlobs.reduce((n, b) => n + b.length, 0);
    }
  };
  classify();
  // A live snapshot needs a blob no present pack holds: the view is inconsistent, delete nothing.
  for (const b of refs.blobs) {
    const loc = catalog.lookupBlob(rid, b);
    if (!loc || !packs.has(loc.pack)) {
      throw new BulwarkError(
        'REPO_DAMAGED',
        `cannot prune: blob ${b.slice(0, 12)} of a live snapshot is ${loc ? `in pack ${loc.pack}, which is missing` : 'in no index'}`,
        { hint: 'Prune deletes nothing while snapshots are incomplete. Run `bulwark verify`.' },
      );
    }
  }

  // Repack partly used packs whose lock has expired.
  const repackable = [...packs.values()].filter(
    (p) =>
      p.indexed &&
      p.referencedBlobs.length > 0 &&
      p.referencedBlobs.length < p.blobs.length &&
      (p.size - p.referencedBytes) / p.size >= repackUnused,
  );
  if (repackable.length > 0) {
    const now = (await store.serverTime()).getTime();
    const ready: PackState[] = [];
    for (const p of repackable) {
      const st = await lockState(repo, objectNames.pack(p.id), now);
      if (st.gone) continue;
      if (st.locked) {
        result.locked.push({
          object: objectNames.pack(p.id),
          ...(st.until !== undefined ? { until: new Date(st.until).toISOString() } : {}),
          held: st.held,
          why: 'repack',
        });
      } else ready.push(p);
    }
    if (ready.length > 0) {
      if (dryRun) {
        for (const p of ready)
          result.repacked.push({
            from: p.id,
            to: [],
            blobs: p.referencedBlobs.length,
            bytes: p.referencedBytes,
          });
      } else {
        const moved = await repack(repo, ready, opts);
        result.repacked.push(...moved.repacked);
        result.indexesWritten.push(...moved.indexes);
        for (const p of moved.packs) {
          packs.set(p.id, {
            id: p.id,
            size: p.size,
            blobs: p.blobs,
            referencedBytes: p.size,
            referencedBlobs: p.blobs,
            indexed: true,
          });
        }
      }
    }
  }

  // Folder targets (no server locks): from here through the prune record, hold the commit lease, so no
  // backup checks its reused packs and commits in between (backup.ts commitUnlocked; DECISIONS "Folder
  // targets: the commit lease"). A backup that committed before is seen by the re-sync below; one that
  // commits after learns the deletes from the prune record. Server locks protect the other targets.
  const lease = dryRun
    ? undefined
    : await folderLease(store, COMMIT_LEASE, {
        purpose: 'prune',
        ...(signal ? { signal } : {}),
        ...(opts.onWait ? { onWait: opts.onWait } : {}),
        ...(opts.leaseWaitMs !== undefined ? { waitMs: opts.leaseWaitMs } : {}),
      });
  try {
    // Re-sync right before deciding: a snapshot committed meanwhile (another computer) is live too.
    await repo.syncIndexes(signal);
    const known = new Set(snaps.map((s) => s.id));
    const later = (await repo.syncSnapshots(signal)).filter((s) => !known.has(s.id));
    if (later.length > 0) {
      await collectReferences(repo, later, refs, signal);
      snaps = [...snaps, ...later];
      result.snapshots = snaps.length;
    }
    classify();

    const marks = prunedMarks(repo);
    const deleteNow: PackState[] = [];
    for (const p of packs.values()) {
      if (p.referencedBlobs.length > 0) {
        result.referencedPacks++;
        if (marks.has(p.id)) result.unmarked.push(p.id);
        continue;
      }
      const markedAt = marks.get(p.id);
      if (markedAt === undefined) {
        result.marked.push(p.id);
        continue;
      }
      // deletable from: an earlier prune's mark + grace; for a pack no index lists, also upload + orphan grace
      let from = markedAt + graceMs;
      if (!p.indexed) from = Math.max(from, (p.modified?.getTime() ?? markedAt) + orphanGraceMs);
      if (markedAt >= startMs || from > startMs) {
        result.waiting.push({
          pack: p.id,
          deletableFrom: new Date(Math.max(from, startMs + 1)).toISOString(),
        });
        continue;
      }
      deleteNow.push(p);
    }

    // Delete: only what a HEAD right before shows unlocked and not held.
    const deletedPacks: string[] = [];
    const now = (await store.serverTime()).getTime();
    for (const p of deleteNow) {
      const name = objectNames.pack(p.id);
      const st = await lockState(repo, name, now);
      if (st.locked) {
        result.locked.push({
          object: name,
          ...(st.until !== undefined ? { until: new Date(st.until).toISOString() } : {}),
          held: st.held,
          why: 'unreferenced',
        });
        continue;
      }
      if (!dryRun && !st.gone) {
        lease?.assertHeld();
        try {
          result.deleteCalls++;
          await store.delete(name);
        } catch (e) {
          // extended meanwhile by a backup that reused it (the server is the last word): kept
          if (isBulwarkError(e, 'LOCKED')) {
            result.locked.push({ object: name, held: false, why: 'unreferenced' });
            continue;
          }
          throw e;
        }
      }
      result.deleted.push({ object: name, size: p.size });
      result.bytesFreed += p.size;
      deletedPacks.push(p.id);
    }
    // the index objects listing them, as the catalog knows them (before the packs are dropped from it)
    const deletedSet = new Set(deletedPacks);
    const indexesOfDeleted = catalog
      .packs(rid)
      .filter((p) => deletedSet.has(p.id) && p.indexId !== null)
      .map((p) => p.indexId as string);
    if (!dryRun) dropPacks(repo, deletedPacks, now);

    // Index objects that list deleted packs: replaced by one listing the survivors, deleted once unlocked.
    // The candidates are the index objects the catalog names for the deleted packs, plus those an earlier
    // prune found still locked (remembered in the catalog); `fullIndexScan` reads every index object.
    // Only packs a prune deleted count as gone (a pack missing otherwise is for `verify` to report).
    const gone = gonePacks(repo);
    for (const p of deletedPacks) gone.add(p);
    const pendingFlag = `prune.indexes.${rid}`;
    const pending = new Set<string>(JSON.parse(getFlag(catalog, pendingFlag)?.value ?? '[]') as string[]);
    const candidates = new Set<string>([...pending, ...indexesOfDeleted]);
    if (opts.fullIndexScan && gone.size > 0) {
      for await (const o of store.list('index/', signal)) candidates.add(lastSegment(o.name));
    }
    for (const id of [...candidates].sort()) {
      const name = objectNames.index(id);
      if (result.indexesWritten.includes(id)) continue;
      let idx;
      try {
        idx = repo.decodeIndex(await store.get(name, undefined, signal), id);
      } catch (e) {
        if (isBulwarkError(e, 'CORRUPT') || isBulwarkError(e, 'NOT_FOUND')) {
          pending.delete(id); // gone already, or not an index Bulwark can read (verify reports it)
          continue;
        }
        throw e;
      }
      if (!idx.packs.some((p) => gone.has(p.id))) {
        pending.delete(id);
        continue;
      }
      const st = await lockState(repo, name, now);
      if (st.gone) {
        pending.delete(id);
        continue;
      }
      if (st.locked) {
        result.locked.push({
          object: name,
          ...(st.until !== undefined ? { until: new Date(st.until).toISOString() } : {}),
          held: st.held,
          why: 'index',
        });
        pending.add(id);
        continue;
      }
      const size = (await store.head(name)).size;
      if (dryRun) {
        result.indexesDeleted.push(id);
        result.bytesFreed += size;
        continue;
      }
      const surviving = idx.packs.filter((p) => !gone.has(p.id));
      if (surviving.length > 0) {
        // as long as any surviving pack is locked: snapshots needing those packs need this index too
        const retention = catalog.retention(
          rid,
          surviving.map((p) => objectNames.pack(p.id)),
        );
        const latest = Math.max(0, ...[...retention.values()].map((v) => v ?? 0));
        const base = recordLock(repo, new Date(now));
        const until = base && latest > base.getTime() ? new Date(latest) : base;
        const written = await repo.writeIndex(
          surviving.map((p) => ({
            id: p.id,
            size: p.size,
            blobs: p.blobs.map(([bid, k, offset, length, rawLength]) => ({
              id: bid,
              kind: k === 't' ? ('tree' as const) : ('data' as const),
              offset,
              length,
              rawLength,
            })),
          })),
          until,
        );
        result.indexesWritten.push(written);
      }
      lease?.assertHeld();
      try {
        result.deleteCalls++;
        await store.delete(name);
      } catch (e) {
        if (isBulwarkError(e, 'LOCKED')) {
          result.locked.push({ object: name, held: false, why: 'index' });
          pending.add(id);
          continue;
        }
        throw e;
      }
      pending.delete(id);
      catalog.db.prepare('DELETE FROM locks WHERE rid = ? AND name = ?').run(rid, name);
      result.indexesDeleted.push(id);
      result.bytesFreed += size;
    }
    if (!dryRun) setFlag(catalog, pendingFlag, pending.size > 0 ? JSON.stringify([...pending]) : null, now);

    if (!dryRun) {
      if (
        result.marked.length + result.unmarked.length + deletedPacks.length + result.indexesDeleted.length >
        0
      ) {
        const rec: PruneRecord = {
          version: 1,
          id: newObjectId(),
          time: start.toISOString(),
          host: hostname(),
          marked: result.marked,
          unmarked: result.unmarked,
          deleted: deletedPacks,
          deletedIndexes: result.indexesDeleted,
        };
        const name = objectNames.pruneMarks(rec.id);
        await putRecord(repo, 'prune', name, rec, recordLock(repo, new Date(now)), signal);
        applyPruneRecord(repo, rec);
        catalog.db.prepare('INSERT OR IGNORE INTO prune_records (rid, object) VALUES (?, ?)').run(rid, name);
      }
    }
  } finally {
    await lease?.release().catch((e: unknown) => {
      // the prune is done either way; a lease left behind is taken over once it goes stale
      repo.warnings.push(
        `could not remove the commit lease ${lease.file}: ${e instanceof Error ? e.message : String(e)}`,
      );
    });
  }
  if (!dryRun) {
    await recordAudit(repo, {
      ...(opts.actor !== undefined ? { actor: opts.actor } : {}),
      action: 'prune',
      subject: repo.config.id,
      details: {
        marked: result.marked.length,
        unmarked: result.unmarked.length,
        deleted: result.deleted.map((d) => d.object),
        indexesDeleted: result.indexesDeleted,
        repacked: result.repacked.map((r) => r.from),
        locked: result.locked.length,
        deleteCalls: result.deleteCalls,
        bytesFreed: result.bytesFreed,
      },
    });
  }
  return result;
}

/**
 * Copies the live blobs of `sources` (still sealed; each one checked on the way) into new packs, uploads
 * them locked like a backup's, writes their index and points the catalog at the new copies.
 */
async function repack(
  repo: Repository,
  sources: readonly PackState[],
  opts: PruneOptions,
): Promise<{
  packs: FinishedPack[];
  indexes: string[];
  repacked: PruneResult['repacked'];
}> {
  const { store, catalog, rid } = repo;
  const signal = opts.signal;
  const target = opts.packTarget ?? 32 * 1024 * 1024;
  const lock = repo.config.lock;
  const serverNow = await store.serverTime();
  const retainUntil = lock
    ? new Date(serverNow.getTime() + (lock.days + lock.paddingDays) * DAY_MS)
    : undefined;
  const base = opts.tmpDir ?? join(tmpdir(), 'bulwark-tmp');
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const dir = mkdtempSync(join(base, `prune-${process.pid}-`));
  const finished: FinishedPack[] = [];
  const repacked: PruneResult['repacked'] = [];
  let writer: PackWriter | undefined;
  try {
    const close = (): void => {
      if (writer && writer.count > 0) finished.push(writer.finish(repo.key.encKey));
      else writer?.abort();
      writer = undefined;
    };
    for (const p of sources) {
      const to = new Set<string>();
      for (const b of [...p.referencedBlobs].sort((x, y) => x.offset - y.offset)) {
        const sealed = await store.get(
          objectNames.pack(p.id),
          { offset: b.offset, length: b.length },
          signal,
        );
        repo.openBlob(b.id, sealed, b.rawLength, p.id); // never copy a damaged blob
        writer ??= new PackWriter(dir);
        writer.add(b.id, b.kind, sealed, b.rawLength);
        to.add(writer.id);
        if (writer.size >= target) close();
      }
      repacked.push({ from: p.id, to: [...to], blobs: p.referencedBlobs.length, bytes: p.referencedBytes });
    }
    close();
    for (const f of finished) {
      await store.put(
        objectNames.pack(f.id),
        { path: f.path, size: f.size },
        {
          ...repo.lockOptions(retainUntil),
          ...(f.md5 !== undefined ? { contentMd5: f.md5 } : {}),
          ...(signal ? { signal } : {}),
        },
      );
      unlinkSync(f.path);
    }
    // The catalog learns the new packs, then moves each blob's location to its new copy.
    const move = catalog.db.prepare(
      'UPDATE blobs SET pack = ?, offset = ?, length = ?, raw_length = ? WHERE rid = ? AND id = ?',
    );
    for (const f of finished) {
      catalog.addPack(rid, f, retainUntil ?? null, null);
      catalog.db.transaction(() => {
        for (const b of f.blobs)
          move.run(f.id, b.offset, b.length, b.rawLength, rid, Buffer.from(b.id, 'hex'));
      })();
    }
    const indexes: string[] = [];
    if (finished.length > 0) indexes.push(await repo.writeIndex(finished, retainUntil));
    return { packs: finished, indexes, repacked };
  } finally {
    writer?.abort();
    rmSync(dir, { recursive: true, force: true });
  }
}
