/**
 * The commit: the snapshot object is written last; until then a run only added unreferenced objects.
 * On a target with server locks, every object the snapshot needs is locked at least as long as it first;
 * on a folder, the commit lease keeps a prune on another computer out.
 */
import { userInfo } from 'node:os';
import { isBulwarkError } from '../../errors.ts';
import { commitClosure, extendLocks, MissingObjectsError, snapshotClosure } from '../../locks/closure.ts';
import {
  COMMIT_LEASE,
  objectNames,
  packIdFromName,
  type SnapshotManifest,
  type SnapshotStats,
} from '../../repo/format.ts';
import { newObjectId, type Repository } from '../../repo/repository.ts';
import { lastPackDrop, prunedMarks, syncPruneRecords } from '../../retention/marks.ts';
import { folderLease } from '../../storage/fs.ts';

const DAY = 86_400_000;

export interface CommitRequest {
  host: string;
  source: string;
  paths: string[];
  tree: string;
  parent: SnapshotManifest | undefined;
  stats: SnapshotStats;
  tags: string[] | undefined;
  /** the lock period of this snapshot (days), when the repository locks objects */
  lockDays: number;
  /** when the run started (the repository clock): durationMs is measured up to the commit */
  started: number;
  /** the last pack drop the catalog knew at the start (a folder commit checks nothing was pruned since) */
  dropsAtStart: number | undefined;
  signal: AbortSignal | undefined;
  /** tests only: skip the lock-closure step, to prove `verify --locks` notices */
  skipLockExtension: boolean;
}

export async function commitSnapshot(repo: Repository, req: CommitRequest): Promise<SnapshotManifest> {
  const { store, catalog, rid } = repo;
  const { stats, parent, signal } = req;
  const lock = repo.config.lock;
  const id = newObjectId();
  const time = await store.serverTime();
  // The snapshot is guaranteed until commit + lock period; its objects get padding on top.
  const needed = lock ? new Date(time.getTime() + req.lockDays * DAY) : undefined;
  const extendTo = lock ? new Date(time.getTime() + (req.lockDays + lock.paddingDays) * DAY) : undefined;
  const manifest: SnapshotManifest = {
    version: 1,
    id,
    time: time.toISOString(),
    host: req.host,
    user: userInfo().username,
    source: req.source,
    paths: req.paths,
    tree: req.tree,
    ...(parent
      ? {
          parent: parent.id,
          prev: { id: parent.id, hash: repo.chainHash(repo.encodeSnapshot(parent).plain) },
        }
      : {}),
    stats,
    ...(needed ? { retainUntil: needed.toISOString() } : {}),
    ...(req.tags?.length ? { tags: req.tags } : {}),
  };
  // Lock closure before commit: every object the snapshot needs must stay locked at least as long.
  let protectedUntil: number | null = null;
  const commit = async (): Promise<void> => {
    stats.durationMs = repo.clock.now().getTime() - req.started;
    const snapName = objectNames.snapshot(id);
    await store.put(snapName, repo.encodeSnapshot(manifest).sealed, repo.lockOptions(extendTo));
    catalog.putSnapshot(rid, manifest);
    if (extendTo) catalog.setRetention(rid, [[snapName, extendTo.getTime()]]);
    catalog.setSnapshotProtection(rid, id, protectedUntil);
  };
  if (needed && extendTo) {
    // Only the config and the keys when the catalog knows every pack and index locked long enough
    // (commitClosure): the protection recorded is then bounded by the earliest of those locks, never later
    // than the truth and never before `needed`.
    const closure = await commitClosure(repo, manifest, needed.getTime(), signal);
    if (req.skipLockExtension) {
      stats.lockExtensions = 0;
    } else {
      const ext = await extendLocks(repo, closure.names, needed, extendTo, signal ? { signal } : {});
      stats.lockExtensions = ext.extensions;
      protectedUntil = Math.min(ext.protectedUntil, closure.lockedUntil, extendTo.getTime());
    }
    await commit();
  } else {
    await commitUnlocked(repo, manifest, req.dropsAtStart, commit, signal, `backup of ${manifest.source}`);
  }
  return manifest;
}

/**
 * The commit of a backup on a target without server locks (a folder): nothing stops a prune on another
 * computer from deleting a pack this run reused. Under the folder's commit lease (storage/fs.ts
 * FolderLease; a prune holds it from its last re-sync through its deletes and its prune record), this
 * learns the latest prunes, checks that every reused pack a prune marked is still there, and writes the
 * snapshot: a prune either finished before (its record or the HEAD says what is gone: MissingObjectsError,
 * the backup runs once more) or starts after, and then sees the new snapshot (DECISIONS "Folder targets:
 * the commit lease"). A copy (ops/copy.ts) commits the same way; `purpose` names which in the lease.
 */
export async function commitUnlocked(
  repo: Repository,
  manifest: SnapshotManifest,
  dropsAtStart: number | undefined,
  commit: () => Promise<void>,
  signal: AbortSignal | undefined,
  purpose: string,
): Promise<void> {
  const lease = await folderLease(repo.store, COMMIT_LEASE, {
    purpose,
    ...(signal ? { signal } : {}),
  });
  try {
    await syncPruneRecords(repo, signal);
    if (lastPackDrop(repo) !== dropsAtStart) throw new MissingObjectsError([]);
    const marks = prunedMarks(repo);
    if (marks.size > 0) {
      const closure = await snapshotClosure(repo, manifest, signal);
      const gone: string[] = [];
      for (const name of closure) {
        const pack = packIdFromName(name);
        if (!pack || !marks.has(pack)) continue;
        try {
          await repo.store.head(name);
        } catch (e) {
          if (!isBulwarkError(e, 'NOT_FOUND')) throw e;
          gone.push(name);
        }
      }
      if (gone.length > 0) throw new MissingObjectsError(gone);
    }
    lease?.assertHeld();
    await commit();
  } finally {
    await lease?.release().catch((e: unknown) => {
      // the snapshot is written either way; a lease left behind is taken over once it goes stale
      repo.warnings.push(
        `could not remove the commit lease ${lease.file}: ${e instanceof Error ? e.message : String(e)}`,
      );
    });
  }
}
