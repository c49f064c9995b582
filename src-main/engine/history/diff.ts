/**
 * What changed for the file-history index between two snapshots of a source: their trees compared from the
 * root down. A folder whose tree id is the same in both is skipped without being read (unchanged folders
 * cost nothing), and a file whose blob list is the same is not a new version (a touched file keeps its
 * version). Only files are versioned; a folder that went away ends every version below it with one range
 * update (`endUnder`), without reading its old trees.
 *
 * The comparison is synchronous and writes as it goes (into one SQLite transaction): nothing of a snapshot
 * of a million files is held in memory but the folders on the current path. It reads listings from the
 * catalog, where a backup has just put them; when one is not there (a rebuild, or a catalog that never saw
 * older snapshots) `prefetchTrees` first brings every listing the comparison will read into the catalog,
 * asynchronously, and the comparison runs again.
 */
import { loadTreeOrDamage, type DamagedFolder } from '../ops/damage.ts';
import type { Tree, TreeNode } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';

/** Where the comparison writes (history/store.ts beginSnapshot). */
export interface SnapshotWriter {
  /** the file at `path` has this content now: its open version (if any) ends, a new one starts */
  put(path: string, node: TreeNode): void;
  /** the file at `path` is gone */
  end(path: string): void;
  /** every file below `prefix` (every file of the source for '') is gone */
  endUnder(prefix: string): void;
  /**
   * the old listing of `prefix` cannot be read: the files below it now are given to `file`, each compared
   * with the index's open version; `done` ends the open versions below `prefix` that were not given
   */
  reconcile(prefix: string): { file(path: string, node: TreeNode): void; done(): void };
}

/** A listing the comparison needs is not in the catalog: prefetchTrees, then compare again. */
export class NotCached extends Error {
  readonly tree: string;
  constructor(tree: string) {
    super(`folder listing ${tree.slice(0, 12)} is not in the catalog`);
    this.tree = tree;
  }
}

/** A listing by tree id: undefined when it cannot be read (damaged); throws NotCached when not at hand. */
export type ListingReader = (id: string) => Tree | undefined;

const join = (prefix: string, name: string): string => (prefix ? `${prefix}/${name}` : name);

export function sameContent(a: TreeNode, b: TreeNode): boolean {
  const x = a.content ?? [];
  const y = b.content ?? [];
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * Writes to `w` what takes the index from the snapshot with root tree `oldRoot` (undefined: none, the
 * source's first) to the one with `newRoot`. A folder of the new snapshot whose listing cannot be read
 * counts as empty (its versions stay with the snapshots that can be read); one of the old snapshot is
 * reconciled against the index instead.
 */
export function diffTrees(
  read: ListingReader,
  oldRoot: string | undefined,
  newRoot: string,
  w: SnapshotWriter,
): void {
  const each = (id: string, prefix: string, fn: (path: string, node: TreeNode) => void): void => {
    const tree = read(id);
    if (!tree) return;
    for (const n of tree.nodes) {
      const p = join(prefix, n.name);
      if (n.type === 'file') fn(p, n);
      else if (n.type === 'dir' && n.subtree) each(n.subtree, p, fn);
    }
  };

  const compare = (oldId: string | undefined, newId: string, prefix: string): void => {
    if (oldId === newId) return;
    if (oldId === undefined) {
      each(newId, prefix, (p, n) => w.put(p, n));
      return;
    }
    const now = read(newId);
    if (!now) {
      w.endUnder(prefix);
      return;
    }
    const before = read(oldId);
    if (!before) {
      const r = w.reconcile(prefix);
      each(newId, prefix, (p, n) => r.file(p, n));
      r.done();
      return;
    }
    const old = new Map(before.nodes.map((n) => [n.name, n]));
    for (const n of now.nodes) {
      const path = join(prefix, n.name);
      const o = old.get(n.name);
      old.delete(n.name);
      if (n.type === 'file') {
        if (o?.type === 'file') {
          if (!sameContent(o, n)) w.put(path, n);
          continue;
        }
        if (o?.type === 'dir') w.endUnder(path);
        w.put(path, n);
      } else if (n.type === 'dir' && n.subtree) {
        if (o?.type === 'file') w.end(path);
        compare(o?.type === 'dir' ? o.subtree : undefined, n.subtree, path);
      } else if (o?.type === 'file') w.end(path);
      else if (o?.type === 'dir') w.endUnder(path);
    }
    for (const o of old.values()) {
      const path = join(prefix, o.name);
      if (o.type === 'file') w.end(path);
      else if (o.type === 'dir') w.endUnder(path);
    }
  };

  compare(oldRoot, newRoot, '');
}

/**
 * Brings every listing diffTrees(oldRoot, newRoot) reads into the catalog (from the repository where it is
 * not there yet), walking as it walks. A listing of the new snapshot that cannot be read is reported to
 * `onDamaged` with its folder; the ids of every unreadable listing are returned (the reader answers
 * undefined for them).
 */
export async function prefetchTrees(
  repo: Repository,
  oldRoot: string | undefined,
  newRoot: string,
  onDamaged: (d: DamagedFolder) => void,
  signal?: AbortSignal,
): Promise<Set<string>> {
  const damaged = new Set<string>();
  const load = async (id: string, path: string, report: boolean): Promise<Tree | undefined> => {
    if (signal?.aborted) throw signal.reason;
    if (damaged.has(id)) return undefined;
    const r = await loadTreeOrDamage(repo, id, signal);
    if (r.damage) {
      damaged.add(id);
      if (report) onDamaged({ path, tree: id, message: r.damage.message });
      return undefined;
    }
    return r.tree;
  };
  const all = async (id: string, prefix: string): Promise<void> => {
    const tree = await load(id, prefix, true);
    for (const n of tree?.nodes ?? [])
      if (n.type === 'dir' && n.subtree) await all(n.subtree, join(prefix, n.name));
  };
  const compare = async (oldId: string | undefined, newId: string, prefix: string): Promise<void> => {
    if (oldId === newId) return;
    if (oldId === undefined) return all(newId, prefix);
    const now = await load(newId, prefix, true);
    if (!now) return;
    const before = await load(oldId, prefix, false);
    if (!before) return all(newId, prefix);
    const old = new Map(before.nodes.map((n) => [n.name, n]));
    for (const n of now.nodes) {
      if (n.type !== 'dir' || !n.subtree) continue;
      const o = old.get(n.name);
      await compare(o?.type === 'dir' ? o.subtree : undefined, n.subtree, join(prefix, n.name));
    }
  };
  await compare(oldRoot, newRoot, '');
  return damaged;
}
