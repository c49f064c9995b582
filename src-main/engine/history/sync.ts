/**
 * Keeping the file-history index in line with the catalog's snapshots (DECISIONS "File history"). One
 * function does it for every caller: per source, snapshots the index holds that are gone (forget, or
 * removed on another computer) are taken out, and snapshots it lacks are taken in, in chain order, each
 * from the tree diff with the one before. find/versions run it first (a catalog that never had the index
 * builds it then, once), the service runs it for a source after each of its backups (in the background:
 * service/history-catch-up.ts), a copy for the snapshot it made, forget takes out what it removed, and a
 * rebuild of the catalog clears the index and runs it over every snapshot. A backup itself does not: the
 * index is not what protects the files, and on a first backup of 80 000 files it was a fifth of the time.
 */
import { BulwarkError } from '../errors.ts';
import { loadTreeOrDamage, type DamagedFolder } from '../ops/damage.ts';
import type { SnapshotManifest, Tree, TreeNode } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import type { Catalog } from '../catalog/catalog.ts';
import { diffTrees, NotCached, prefetchTrees, type ListingReader } from './diff.ts';
import { HistoryStore, mtimeMs } from './store.ts';

export interface HistorySyncOptions {
  signal?: AbortSignal;
  /** only these sources (default: every source of the repository) */
  sources?: readonly string[];
  /** a folder listing that could not be read: it counts as empty in that snapshot */
  onDamaged?: (d: DamagedFolder & { snapshot: string }) => void;
  /** said once before the index of the repository is built for the first time (it may take a while) */
  onBuild?: (snapshots: number) => void;
}

export interface HistorySyncResult {
  /** snapshots taken in */
  added: number;
  /** snapshots taken out */
  removed: number;
  /** sources indexed again from their first snapshot (a snapshot arrived in the middle of the chain) */
  reindexed: number;
}

/** Another process changed the index between a diff and its write: the sync starts over. */
class IndexMoved extends Error {}
const ATTEMPTS = 3;

// One sync at a time per catalog in this process (the service's backups and its find handler share one):
// two of them would diff the same snapshot.
const running = new WeakMap<Catalog, Promise<unknown>>();

function exclusive<T>(catalog: Catalog, fn: () => Promise<T>): Promise<T> {
  const before = running.get(catalog) ?? Promise.resolve();
  const p = before.then(fn, fn);
  running.set(
    catalog,
    p.catch(() => undefined),
  );
  return p;
}

/** The node at `path` in the snapshot with root tree `root` (undefined: absent, or a listing unreadable). */
async function nodeAt(
  repo: Repository,
  root: string,
  path: string,
  folders: Map<string, Map<string, TreeNode> | undefined>,
): Promise<TreeNode | undefined> {
  let tree: string | undefined = root;
  let node: TreeNode | undefined;
  for (const part of path.split('/')) {
    if (tree === undefined) return undefined;
    let listing = folders.get(tree);
    if (!folders.has(tree)) {
      const r = await loadTreeOrDamage(repo, tree);
      listing = r.tree && new Map(r.tree.nodes.map((n) => [n.name, n]));
      folders.set(tree, listing);
    }
    node = listing?.get(part);
    tree = node?.type === 'dir' ? node.subtree : undefined;
  }
  return node;
}

/**
 * Takes snapshot `seq` out of source `sid`: the files whose version then begins at the next snapshot get
 * their modification time as that snapshot has it (read first, from its trees), so the rows are exactly
 * what a rebuild gives.
 */
async function removeSnapshot(
  repo: Repository,
  store: HistoryStore,
  sid: number,
  seq: number,
): Promise<void> {
  const carried = store.carriedOver(sid, seq);
  const mtimes = new Map<number, number>();
  if (carried) {
    const folders = new Map<string, Map<string, TreeNode> | undefined>();
    for (const f of carried.files) {
      const node = await nodeAt(repo, carried.next.tree, f.path, folders);
      if (node?.type === 'file') mtimes.set(f.pid, mtimeMs(node));
    }
  }
  repo.catalog.db.transaction(() => store.removeSnapshot(sid, seq, mtimes))();
}

async function syncOnce(repo: Repository, opts: HistorySyncOptions): Promise<HistorySyncResult> {
  const { catalog, rid } = repo;
  const store = new HistoryStore(catalog, rid);
  const tx = <T>(fn: () => T): T => catalog.db.transaction(fn)();
  const result: HistorySyncResult = { added: 0, removed: 0, reindexed: 0 };
  const bySource = new Map<string, { id: string; time: string; tree: string }[]>();
  for (const s of catalog.snapshotRefs(rid)) {
    const list = bySource.get(s.source) ?? [];
    list.push(s);
    bySource.set(s.source, list);
  }
  const names =
    opts.sources ?? [...new Set([...bySource.keys(), ...store.sources().map((s) => s.source)])].sort();
  for (const source of names) {
    const current = bySource.get(source) ?? [];
    const sid = store.sourceId(source, current.length > 0);
    if (sid === undefined) continue;
    let indexed = store.snapshots(sid);
    if (current.length === 0) {
      tx(() => store.removeSource(sid));
      result.removed += indexed.length;
      continue;
    }
    const present = new Set(current.map((s) => s.id));
    for (const s of indexed) {
      if (present.has(s.id)) continue;
      await removeSnapshot(repo, store, sid, s.seq);
      result.removed++;
    }
    indexed = indexed.filter((s) => present.has(s.id));
    // What stays must be the start of the chain. A snapshot that sorts in between (another computer whose
    // clock was behind) cannot be inserted into seq order: the source is indexed again from its first.
    if (indexed.some((s, i) => current[i]?.id !== s.id)) {
      tx(() => store.clearSource(sid));
      indexed = [];
      result.reindexed++;
    }
    let prev = indexed.at(-1);
    for (const s of current.slice(indexed.length)) {
      if (opts.signal?.aborted) throw new BulwarkError('CANCELED', 'the operation was canceled');
      const manifest = catalog.snapshot(rid, s.id);
      const taken = { id: s.id, time: s.time, tree: s.tree, paths: manifest?.paths ?? [] };
      const prevTree = prev?.tree;
      const prevId = prev?.id;
      let damaged = new Set<string>();
      const read: ListingReader = (id) => {
        if (damaged.has(id)) return undefined;
        const data = catalog.getTree(rid, id);
        if (!data) throw new NotCached(id);
        return JSON.parse(data.toString('utf8')) as Tree;
      };
      const take = (): number =>
        tx(() => {
          if (store.lastSnapshot(sid)?.id !== prevId) throw new IndexMoved();
          const { seq, writer } = store.beginSnapshot(sid, taken);
          diffTrees(read, prevTree, s.tree, writer);
          return seq;
        });
      let seq: number;
      try {
        seq = take();
      } catch (e) {
        // listings not in the catalog (a rebuild, an older catalog): fetched first, then compared again
        if (!(e instanceof NotCached)) throw e;
        damaged = await prefetchTrees(
          repo,
          prevTree,
          s.tree,
          (d) => opts.onDamaged?.({ ...d, snapshot: s.id }),
          opts.signal,
        );
        seq = take();
      }
      prev = { ...taken, seq };
      result.added++;
    }
  }
  if (opts.sources === undefined) store.markBuilt(repo.clock.now().getTime());
  return result;
}

async function syncWithRetry(repo: Repository, opts: HistorySyncOptions): Promise<HistorySyncResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await syncOnce(repo, opts);
    } catch (e) {
      if (!(e instanceof IndexMoved) || attempt >= ATTEMPTS) {
        if (e instanceof IndexMoved)
          throw new BulwarkError('LOCKED', 'the file-history index kept changing while it was updated', {
            hint: 'Another Bulwark process is using this catalog; try again when it is done.',
          });
        throw e;
      }
    }
  }
}

/**
 * Brings the index of the repository in line with the catalog's snapshots (see the module comment). The
 * first time for a repository (a catalog from before the index, or one just rebuilt) `onBuild` is called
 * before the work starts.
 */
export function syncHistory(repo: Repository, opts: HistorySyncOptions = {}): Promise<HistorySyncResult> {
  return exclusive(repo.catalog, async () => {
    const store = new HistoryStore(repo.catalog, repo.rid);
    if (!store.isBuilt() && opts.sources === undefined) {
      const count = repo.catalog.snapshotRefs(repo.rid).length;
      if (count > 0) opts.onBuild?.(count);
    }
    return syncWithRetry(repo, opts);
  });
}

/** Whether the index of the repository was built (else the next find or versions builds it). */
export function historyBuilt(repo: Repository): boolean {
  return new HistoryStore(repo.catalog, repo.rid).isBuilt();
}

/**
 * Takes snapshot `m` into the index, right after it was made (the diff with the source's previous snapshot
 * costs only what changed). A repository whose index was never built is left for the first find (building
 * it here would walk every older snapshot), unless `m` is its only snapshot. Throws what went wrong;
 * `signal` is looked at between snapshots (CANCELED).
 */
export async function indexSnapshot(
  repo: Repository,
  m: SnapshotManifest,
  signal?: AbortSignal,
): Promise<void> {
  await exclusive(repo.catalog, async () => {
    const store = new HistoryStore(repo.catalog, repo.rid);
    const sync: HistorySyncOptions = signal ? { signal } : {};
    if (store.isBuilt()) {
      await syncWithRetry(repo, { ...sync, sources: [m.source] });
      return;
    }
    const refs = repo.catalog.snapshotRefs(repo.rid);
    if (refs.length === 1 && refs[0]?.id === m.id) await syncWithRetry(repo, sync);
  });
}

/**
 * indexSnapshot for an operation that made `m` and is done whatever happens here (copy): a failure is said
 * in `repo.warnings`, and the index catches up the next time it is used.
 */
export async function indexNewSnapshot(repo: Repository, m: SnapshotManifest): Promise<void> {
  try {
    await indexSnapshot(repo, m);
  } catch (e) {
    repo.warnings.push(historyBehind(m, e));
  }
}

/** What to say when the index did not take in snapshot `m`. */
export function historyBehind(m: SnapshotManifest, e: unknown): string {
  return `the file history (find, versions) was not updated for snapshot ${m.id.slice(0, 8)}; it catches up when next used: ${e instanceof Error ? e.message : String(e)}`;
}

/**
 * forget removed snapshot `id` of `source`: the index no longer counts it (versions only it held go, the
 * others' ranges close over the gap). Like the backup's, a failure here is said in `repo.warnings`: the
 * snapshot is gone either way, and the next sync takes it out.
 */
export async function removeFromHistory(repo: Repository, source: string, id: string): Promise<void> {
  try {
    await exclusive(repo.catalog, async () => {
      const store = new HistoryStore(repo.catalog, repo.rid);
      const sid = store.sourceId(source, false);
      if (sid === undefined) return;
      const seq = store.snapshots(sid).find((s) => s.id === id)?.seq;
      if (seq !== undefined) await removeSnapshot(repo, store, sid, seq);
    });
  } catch (e) {
    repo.warnings.push(
      `the file history (find, versions) still lists snapshot ${id.slice(0, 8)}; it is taken out when next used: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/**
 * `repair --rebuild-catalog`: the index built again from every snapshot the (just rebuilt) catalog knows,
 * each source's in time order. Folder listings that cannot be read are reported to `onDamaged`.
 */
export function rebuildHistory(
  repo: Repository,
  onDamaged?: (d: DamagedFolder & { snapshot: string }) => void,
  signal?: AbortSignal,
): Promise<HistorySyncResult> {
  return exclusive(repo.catalog, async () => {
    repo.catalog.clearHistory(repo.rid);
    return syncWithRetry(repo, {
      ...(onDamaged ? { onDamaged } : {}),
      ...(signal ? { signal } : {}),
    });
  });
}
