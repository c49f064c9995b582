/**
 * The lock-closure invariant (DESIGN §3): for every snapshot S whose retain-until is in the future, every
 * object S needs to be restored — its snapshot object, the packs holding its blobs, the index objects that
 * list those packs, the config and the key objects — has a retain-until at least as late as S's.
 */
import { BulwarkError, isBulwarkError } from '../errors.ts';
import { objectNames, type SnapshotManifest } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import { TaskPool } from '../util/pool.ts';

export const DAY_MS = 86_400_000;
/** blob ids looked up together (Catalog.lookupBlobs batches them further) */
const LOOKUP_IDS = 1024;

/** Names of every object snapshot `m` needs, except the snapshot object itself. */
export async function snapshotClosure(
  repo: Repository,
  m: SnapshotManifest,
  signal?: AbortSignal,
): Promise<string[]> {
  const { catalog, rid } = repo;
  const packs = new Set<string>();
  const seenTrees = new Set<string>();
  // Blob ids are looked up a batch at a time (Catalog.lookupBlobs): one query each was ~5 µs, the whole of
  // a snapshot's walk on every commit of a locked repository (~20 ms for 4 000 files, seconds for a million).
  const pending: string[] = [];
  const lookUp = (): void => {
    const locs = catalog.lookupBlobs(rid, pending);
    for (const [i, loc] of locs.entries()) {
      if (!loc)
        throw new BulwarkError(
          'REPO_DAMAGED',
          `blob ${pending[i]!.slice(0, 12)} of snapshot ${m.id.slice(0, 8)} is in no index`,
        );
      packs.add(loc.pack);
    }
    pending.length = 0;
  };
  const blobPack = (id: string): void => {
    pending.push(id);
    if (pending.length >= LOOKUP_IDS) lookUp();
  };
  const walk = async (treeId: string): Promise<void> => {
    if (seenTrees.has(treeId)) return;
    seenTrees.add(treeId);
    blobPack(treeId);
    const tree = await repo.loadTree(treeId, signal);
    for (const n of tree.nodes) {
      if (n.content) for (const b of n.content) blobPack(b);
      if (n.subtree) await walk(n.subtree);
    }
  };
  await walk(m.tree);
  lookUp();
  const names = await everySnapshotsObjects(repo, signal);
  const indexOf = new Map(catalog.packs(rid).map((p) => [p.id, p.indexId]));
  for (const p of packs) {
    names.add(objectNames.pack(p));
    const idx = indexOf.get(p);
    if (!idx)
      throw new BulwarkError(
        'REPO_DAMAGED',
        `pack ${p} of snapshot ${m.id.slice(0, 8)} is listed by no index`,
      );
    names.add(objectNames.index(idx));
  }
  return [...names];
}

/** What every snapshot needs besides its own packs and indexes: the config and the key objects. */
async function everySnapshotsObjects(repo: Repository, signal?: AbortSignal): Promise<Set<string>> {
  const names = new Set<string>([objectNames.config]);
  for await (const k of repo.store.list('keys/', signal)) names.add(k.name);
  return names;
}

/** What a commit must see locked (`commitClosure`). */
export interface CommitClosure {
  /** the objects to pass to `extendLocks` */
  names: string[];
  /** the earliest lock of the objects the commit needs and `names` leaves out (known long enough); ∞: none */
  lockedUntil: number;
}

/**
 * What a commit must see locked until `needed` (ms): the snapshot's closure, or, when the catalog knows
 * every pack and every index object of the repository locked until then already, only the config and the
 * keys. Whatever the snapshot needs among the packs and indexes is then locked long enough, and the walk of
 * its listings, which only says which of them it needs (every listing parsed, every blob looked up: ~50 ms
 * for 16 000 files, seconds for a million), is skipped; the earliest of those locks is what it is protected
 * until at least. The catalog's check reads every pack of the repository once, so it is made only where it
 * costs no more than the walk: a repository with more packs than the snapshot has files and folders (a
 * small source among large ones) walks. So does one where a lock falls short or is unknown (a pack of
 * another computer, an index the catalog has not seen locked) or a pack is in no index yet, and the walk
 * then names exactly the closure.
 */
export async function commitClosure(
  repo: Repository,
  m: SnapshotManifest,
  needed: number,
  signal?: AbortSignal,
): Promise<CommitClosure> {
  const { catalog, rid } = repo;
  const walk = async (): Promise<CommitClosure> => ({
    names: await snapshotClosure(repo, m, signal),
    lockedUntil: Number.POSITIVE_INFINITY,
  });
  if (catalog.packCount(rid) > m.stats.files + m.stats.dirs) return walk();
  const locks = catalog.packAndIndexLocks(rid);
  if (locks.objects === 0 || locks.unknown > 0 || locks.earliest === null || locks.earliest < needed)
    return walk();
  return { names: [...(await everySnapshotsObjects(repo, signal))], lockedUntil: locks.earliest };
}

/**
 * Objects a new snapshot needs are gone: another computer pruned them after this backup decided to reuse
 * them. Retryable: the backup drops them from its catalog and stores those blobs again.
 */
export class MissingObjectsError extends BulwarkError {
  readonly missing: readonly string[];
  constructor(missing: readonly string[], cause?: unknown) {
    const which =
      missing.length === 0
        ? ''
        : `: ${missing[0]}${missing.length > 1 ? ` and ${missing.length - 1} more` : ''}`;
    super(
      'REPO_DAMAGED',
      `objects the new snapshot needs are missing from the repository (pruned meanwhile?)${which}`,
      {
        cause,
        hint: 'Another computer may have pruned them. Run the backup again (it stores those data again); if it persists run `bulwark verify`.',
      },
    );
    this.missing = missing;
  }
}

export interface ExtendResult {
  /** PutObjectRetention calls made */
  extensions: number;
  /** HEAD requests made for objects whose lock the catalog did not know */
  lookups: number;
  /** the earliest retain-until over the objects after the step (ms) */
  protectedUntil: number;
}

/**
 * Makes every object in `names` locked until at least `needed`: objects whose (known or looked-up)
 * retain-until falls short get extended to `extendTo` (needed + padding, so the next snapshots need no
 * request). Costs requests only for the objects that fall short or whose lock the catalog does not know.
 */
export async function extendLocks(
  repo: Repository,
  names: readonly string[],
  needed: Date,
  extendTo: Date,
  opts: { signal?: AbortSignal; concurrency?: number } = {},
): Promise<ExtendResult> {
  const { store, catalog, rid } = repo;
  const policy = repo.config.lock;
  if (!policy || !store.extendRetention) {
    throw new BulwarkError('UNSUPPORTED', `${store.location} cannot extend object locks`);
  }
  const extend = store.extendRetention.bind(store);
  const known = catalog.retention(rid, names);
  const result: ExtendResult = { extensions: 0, lookups: 0, protectedUntil: Number.POSITIVE_INFINITY };
  const updates: [string, number][] = [];
  const missing: string[] = [];
  const pool = new TaskPool(opts.concurrency ?? 16);
  for (const name of names) {
    await pool.add(async () => {
      let until = known.get(name) ?? null;
      try {
        if (until === null || until < needed.getTime()) {
          // Unknown, or short per the catalog: the server is the authority (another computer may have extended it).
          result.lookups++;
          until = (await store.head(name)).retainUntil?.getTime() ?? 0;
        }
        if (until < needed.getTime()) {
          await extend(name, extendTo, policy.mode);
          result.extensions++;
          until = extendTo.getTime();
        }
      } catch (e) {
        // gone between the catalog's knowledge and now (pruned elsewhere): collected, reported together
        if (isBulwarkError(e, 'NOT_FOUND')) {
          missing.push(name);
          return;
        }
        throw e;
      }
      // only what changed is written back: a closure names most of the repository's packs on every commit
      if (until !== known.get(name)) updates.push([name, until]);
      result.protectedUntil = Math.min(result.protectedUntil, until);
    });
  }
  await pool.drain();
  catalog.setRetention(rid, updates);
  if (missing.length > 0) throw new MissingObjectsError(missing.sort());
  return result;
}
