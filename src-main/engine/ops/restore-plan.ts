/**
 * A restore plan: what restoring some files or folders of a snapshot will do, decided before anything is
 * written (docs/DECISIONS.md, Restore plans). Each file (and symlink) of the selection is
 *   - `create`: nothing is at its destination;
 *   - `identical`: the same bytes are there (skipped by the restore);
 *   - `conflict`: something else is there (the run's conflict policy decides).
 * Planning only reads: no folder is created, no file opened for writing. restore.ts carries a plan out.
 */
import { constants, readlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Chunker, gearTableFromSeed } from '../chunker/fastcdc.ts';
import { ChunkWindow } from '../chunker/window.ts';
import { systemClock, type Clock } from '../clock.ts';
import { keyedHashHex } from '../crypto/blob-id.ts';
import { BulwarkError, throwIfAborted } from '../errors.ts';
import type { SnapshotManifest, TreeNode } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import { childPath, decodeFsName, fsErrorText, fsPath } from '../util/fs-names.ts';
import { DAMAGED_FOLDER, loadTreeOrDamage, type TreeSource } from './damage.ts';
import { stateAt, type NameState } from './restore-place.ts';
import { findNode, restoreName } from './walk.ts';

export type RestoreDestination = { kind: 'original' } | { kind: 'folder'; path: string };
export type PlanAction = 'create' | 'identical' | 'conflict';

export interface RestorePlanOptions {
  /** snapshot id, unique prefix, or "latest" */
  snapshot: string;
  /** what to restore: paths inside the snapshot ('/'-separated, '' for all of it), files or folders */
  paths: string[];
  /** where the files were when they were backed up (the snapshot's `paths`), or another folder */
  destination: RestoreDestination;
  /**
   * Into another folder: `named` (default) puts each selected file or folder in it under its own name;
   * `contents` (`bulwark restore SNAP:FOLDER --target DIR`, one selection only) puts a selected folder's
   * contents straight into it.
   */
  layout?: 'named' | 'contents';
  signal?: AbortSignal;
  clock?: Clock;
}

/** One entry of the selection, in walk order (a folder before what it holds). */
export interface PlanEntry {
  kind: 'dir' | 'file' | 'symlink' | 'special';
  /** index in `RestorePlan.roots` */
  root: number;
  /**
   * its name on disk; the names above it are its parents' (`entrySegs`): one array of names per entry cost
   * ~100 bytes a file for the whole restore
   */
  name: string;
  /** its path in the snapshot (what reports show) */
  path: string;
  node: TreeNode;
  /** index of the folder entry holding it; -1: directly in the root folder */
  parent: number;
  /** files and symlinks: what the plan found (absent: the destination could not be looked at, see errors) */
  action?: PlanAction;
  /** files and symlinks: what was at the destination when planned (null: nothing) */
  existing?: NameState | null;
}

export interface RestorePlan {
  snapshotId: string;
  snapshotTime: string;
  /** the selection as given (normalized, overlaps removed) */
  paths: string[];
  /** where the files go, for people: the folder, or the original locations */
  destination: string;
  /** the folders the entries are restored into (checked and created when the plan is carried out) */
  roots: { folder: string }[];
  entries: PlanEntry[];
  /** entries that cannot be restored (unsafe names, damaged folders, ...): reported by the run too */
  errors: { path: string; message: string }[];
  warnings: { path: string; message: string }[];
  totals: { files: number; bytes: number; create: number; identical: number; conflicts: number };
  /** when it was planned (ms, the injected clock) */
  plannedAt: number;
}

/** A file or symlink of a plan as people see it. */
export interface PlanItem {
  path: string;
  /** absolute path it will be written to */
  destination: string;
  type: 'file' | 'symlink';
  action: PlanAction;
  size: number;
  mtimeNs: string;
  existing?: { size: number; mtimeNs: string };
}

/** The names on disk of an entry below its root folder, the root's child first. */
export function entrySegs(plan: RestorePlan, e: PlanEntry): string[] {
  const out: string[] = [];
  for (
    let x: PlanEntry | undefined = e;
    x !== undefined;
    x = x.parent >= 0 ? plan.entries[x.parent] : undefined
  )
    out.push(x.name);
  return out.reverse();
}

/**
 * What a restore needs of a file's node: its times, inode number and owner as strings and numbers are not
 * restored, and a plan keeps one node per file for the whole run (~100 bytes a file). The device and inode
 * stay for a file with several names: the run joins its names by them (restore.ts, hard links).
 */
function plannedFileNode(n: TreeNode): TreeNode {
  if ((n.nlink ?? 0) >= 2) return n;
  // every field named, undefined or not: one shape for all (a field added afterwards costs a property store)
  return { name: n.name, type: n.type, mode: n.mode, mtimeNs: n.mtimeNs, size: n.size, content: n.content };
}

/** Where an entry of a plan goes (before the run resolves the root folder's real path). */
export const entryDestination = (plan: RestorePlan, e: PlanEntry): string =>
  join(plan.roots[e.root]!.folder, ...entrySegs(plan, e));

/** The files and symlinks of a plan, conflicts first (then in walk order). */
export function planItems(plan: RestorePlan): PlanItem[] {
  const rank: Record<PlanAction, number> = { conflict: 0, create: 1, identical: 2 };
  return plan.entries
    .filter((e) => (e.kind === 'file' || e.kind === 'symlink') && e.action !== undefined)
    .map((e) => ({
      path: e.path,
      destination: entryDestination(plan, e),
      type: e.kind as 'file' | 'symlink',
      action: e.action ?? 'create',
      size: e.node.size ?? 0,
      mtimeNs: e.node.mtimeNs,
      ...(e.existing ? { existing: { size: e.existing.size, mtimeNs: e.existing.mtimeNs } } : {}),
    }))
    .sort((a, b) => rank[a.action] - rank[b.action]);
}

/**
 * Two modification times this close are "equal" for deciding whether to compare contents: a restored
 * file's time is off by up to a quarter of a microsecond (docs/DECISIONS.md, Restore fidelity), FAT keeps
 * 2 s, SMB 100 ns. Only the comparison of contents says `identical`; this only decides whether to read.
 */
const MTIME_SLACK_NS = 2_000_000_000n;

/** The paths of the backed-up folders, by the name the snapshot's root gives them (backup.ts, Root entries). */
function originalRoots(snap: SnapshotManifest): Map<string, string> {
  const used = new Set<string>();
  const byName = new Map<string, string>();
  for (const p of snap.paths) {
    const base = basename(p) || 'root';
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base}~${k}`;
    used.add(name);
    byName.set(name, p);
  }
  return byName;
}

const split = (p: string): string[] => p.split('/').filter((s) => s !== '' && s !== '.');

/** The selection without duplicates and without paths inside another selected folder. */
function normalizeSelection(paths: readonly string[]): string[] {
  const all = [...new Set(paths.map((p) => split(p).join('/')))].sort();
  return all.filter((p) => !all.some((q) => q !== p && (q === '' || p.startsWith(`${q}/`))));
}

/**
 * What a plan reads: the snapshot and its listings, and the repository's chunker and id key only to
 * compare a file that exists at a destination (ContentReader). A plan made before the key reads the
 * catalog alone (restore-ahead.ts).
 */
export type PlanSource = TreeSource & Pick<Repository, 'resolveSnapshot' | 'config' | 'key'>;

/** Plans a restore (see the top of this file). Throws NOT_FOUND for a selected path not in the snapshot. */
export async function planRestore(repo: PlanSource, opts: RestorePlanOptions): Promise<RestorePlan> {
  const snap = repo.resolveSnapshot(opts.snapshot);
  const clock = opts.clock ?? systemClock;
  const selection = normalizeSelection(opts.paths);
  if (selection.length === 0)
    throw new BulwarkError('INVALID_ARGUMENT', 'choose at least one file or folder to restore');
  const layout = opts.layout ?? 'named';
  if (layout === 'contents' && selection.length > 1)
    throw new BulwarkError('INVALID_ARGUMENT', 'only one folder can be restored as its contents');
  const onWindows = process.platform === 'win32';
  const plan: RestorePlan = {
    snapshotId: snap.id,
    snapshotTime: snap.time,
    paths: selection,
    destination: '',
    roots: [],
    entries: [],
    errors: [],
    warnings: [],
    totals: { files: 0, bytes: 0, create: 0, identical: 0, conflicts: 0 },
    plannedAt: clock.now().getTime(),
  };
  const fail = (path: string, message: string): void => void plan.errors.push({ path, message });
  const warn = (path: string, message: string): void => void plan.warnings.push({ path, message });
  const rootIndex = new Map<string, number>();
  const addRoot = (folder: string): number => {
    const key = resolve(folder);
    let i = rootIndex.get(key);
    if (i === undefined) {
      i = plan.roots.length;
      plan.roots.push({ folder: key });
      rootIndex.set(key, i);
    }
    return i;
  };
  // Destinations already taken by a top entry (two selections may land on one name in another folder).
  // Only the entries directly in a root folder are claimed: what lies below a claimed folder is unique
  // already (a folder's names are told apart by addTree's `seen`, with the same case rule), and a key per
  // entry held ~8 MB of strings while planning 80 000 files.
  const taken = new Set<string>();
  const claim = (root: number, segs: string[], path: string): boolean => {
    const key = `${root}\0${segs.join('/')}`;
    const k = onWindows ? key.toLowerCase() : key;
    if (taken.has(k)) {
      fail(path, 'another selected entry is restored to the same name: skipped');
      return false;
    }
    taken.add(k);
    return true;
  };
  /** The on-disk name of a snapshot entry, or undefined (reported) when it must not be restored. */
  const diskName = (name: string, shown: string): string | undefined => {
    const out = restoreName(name);
    if (out === undefined) fail(shown, 'unsafe name in the snapshot: skipped');
    else if (out !== name) warn(shown, `restored as "${out}" (the name is not valid on Windows)`);
    return out;
  };

  let walked = 0;
  const addNode = async (
    node: TreeNode,
    root: number,
    segs: string[],
    shown: string,
    parent: number,
  ): Promise<void> => {
    if (++walked % 1000 === 0) {
      throwIfAborted(opts.signal);
      await new Promise<void>((r) => setImmediate(r)); // a big selection must not stall the service
    }
    if (parent < 0 && !claim(root, segs, shown)) return;
    const kind =
      node.type === 'dir'
        ? 'dir'
        : node.type === 'file'
          ? 'file'
          : node.type === 'symlink'
            ? 'symlink'
            : 'special';
    const index = plan.entries.length;
    // action and existing are set by classify(): named here so every entry has one shape (added later, V8
    // gave each entry a separate property store)
    plan.entries.push({
      kind,
      root,
      name: segs[segs.length - 1]!,
      path: shown,
      node: kind === 'file' ? plannedFileNode(node) : node,
      parent,
      action: undefined,
      existing: undefined,
    });
    if (kind === 'dir' && node.subtree) await addTree(node.subtree, root, segs, shown, index);
  };
  const addTree = async (
    treeId: string,
    root: number,
    segs: string[],
    shown: string,
    parent: number,
  ): Promise<void> => {
    throwIfAborted(opts.signal);
    // A damaged listing costs only its own folder: named by path, the rest of the snapshot is restored.
    const { tree, damage } = await loadTreeOrDamage(repo, treeId, opts.signal);
    if (damage) {
      fail(shown || '.', `${DAMAGED_FOLDER}; its files were not restored (${damage.message})`);
      return;
    }
    const seen = new Set<string>();
    for (const node of tree.nodes) {
      const rel = shown ? `${shown}/${node.name}` : node.name;
      const name = diskName(node.name, rel);
      if (name === undefined) continue;
      // Windows file names are case-insensitive: "A" and "a" would be one file there.
      const key = onWindows ? name.toLowerCase() : name;
      if (seen.has(key)) {
        fail(
          rel,
          onWindows
            ? 'another entry of this folder gets the same name on Windows (duplicate, or differs only in case or escaping): skipped'
            : 'duplicate name in the snapshot: skipped',
        );
        continue;
      }
      seen.add(key);
      // the names on the way matter only to an entry of a root folder (claim); below it, its own name
      await addNode(node, root, parent < 0 ? [...segs, name] : [name], rel, parent);
    }
  };

  const originals = originalRoots(snap);
  const shownOriginals: string[] = [];
  /** Where a path of the snapshot was on disk: its root's backed-up path, then the names below it. */
  const originalOf = (parts: string[], shown: string): string | undefined => {
    const top = originals.get(parts[0] ?? '');
    if (top === undefined) {
      fail(shown, 'where this was backed up from is not recorded in the snapshot: skipped');
      return undefined;
    }
    const below: string[] = [];
    for (const p of parts.slice(1)) {
      const name = restoreName(p);
      if (name === undefined) {
        fail(shown, 'unsafe name in the snapshot: skipped');
        return undefined;
      }
      below.push(name);
    }
    return join(top, ...below);
  };
  /** Adds a node restored at its original place `orig` (a file system root: its contents). */
  const addAtOriginal = async (
    node: TreeNode | { type: 'dir'; subtree: string; name: '' },
    orig: string,
    shown: string,
  ): Promise<void> => {
    shownOriginals.push(orig);
    const name = basename(orig);
    if (name === '') {
      if (node.type === 'dir' && node.subtree) await addTree(node.subtree, addRoot(orig), [], shown, -1);
      return;
    }
    await addNode(node as TreeNode, addRoot(dirname(orig)), [name], shown, -1);
  };

  if (opts.destination.kind === 'folder') {
    if (opts.destination.path.trim() === '')
      throw new BulwarkError('INVALID_ARGUMENT', 'choose the folder to restore into');
    const root = addRoot(opts.destination.path);
    for (const sel of selection) {
      const parts = split(sel);
      const start = await findNode(repo, snap.tree, sel);
      if (parts.length === 0 || (layout === 'contents' && start.type === 'dir')) {
        if (start.type === 'dir' && start.subtree) await addTree(start.subtree, root, [], sel, -1);
        continue;
      }
      const recorded = (start as TreeNode).name;
      const name = restoreName(recorded);
      if (name === undefined) throw new BulwarkError('CORRUPT', 'the snapshot holds an unsafe file name');
      if (name !== recorded) warn(sel, `restored as "${name}" (the name is not valid on Windows)`);
      await addNode(start as TreeNode, root, [name], sel, -1);
    }
    plan.destination = plan.roots[0]!.folder;
  } else {
    for (const sel of selection) {
      const parts = split(sel);
      if (parts.length === 0) {
        const { tree } = await loadTreeOrDamage(repo, snap.tree, opts.signal).then((r) => {
          if (r.damage) throw r.damage;
          return r;
        });
        for (const node of tree.nodes) {
          const orig = originalOf([node.name], node.name);
          if (orig !== undefined) await addAtOriginal(node, orig, node.name);
        }
        continue;
      }
      const start = await findNode(repo, snap.tree, sel);
      const orig = originalOf(parts, sel);
      if (orig !== undefined) await addAtOriginal(start, orig, sel);
    }
    plan.destination =
      shownOriginals.length <= 3
        ? shownOriginals.join(', ')
        : `${shownOriginals.slice(0, 2).join(', ')} and ${shownOriginals.length - 2} more places`;
  }

  await classify(repo, plan, opts.signal);
  return plan;
}

/**
 * Looks at each file's and symlink's destination: create, identical or conflict. An entry whose
 * destination cannot even be looked at is reported and keeps no action: the run leaves it out.
 */
async function classify(repo: PlanSource, plan: RestorePlan, signal: AbortSignal | undefined): Promise<void> {
  let reader: ContentReader | undefined;
  // Per folder entry: where it goes (joined once, its files' paths onto it), and whether it is missing on
  // disk. Nothing can be inside a missing folder, so its files need no look of their own, nor do the folders
  // below it (a restore into a new folder otherwise asked the disk about every one of tens of thousands of
  // names). Entries come in walk order: a folder before what it holds.
  const dirDest: string[] = [];
  const dirMissing: (boolean | undefined)[] = [];
  const rootMissing: (boolean | undefined)[] = [];
  const folderDest = (e: PlanEntry): string =>
    e.parent < 0 ? plan.roots[e.root]!.folder : dirDest[e.parent]!;
  /** Whether the folder entry `e` goes into is missing; throws what looking at a folder on the way threw. */
  const folderMissing = (e: PlanEntry): boolean => {
    if (e.parent < 0) return (rootMissing[e.root] ??= stateAt(plan.roots[e.root]!.folder) === null);
    return (dirMissing[e.parent] ??=
      folderMissing(plan.entries[e.parent]!) || stateAt(dirDest[e.parent]!) === null);
  };
  for (let i = 0; i < plan.entries.length; i++) {
    const e = plan.entries[i]!;
    if (e.kind === 'dir') dirDest[i] = childPath(folderDest(e), e.name);
    if (e.kind !== 'file' && e.kind !== 'symlink') continue;
    if (i % 1000 === 999) {
      throwIfAborted(signal);
      await new Promise<void>((r) => setImmediate(r));
    }
    const dest = childPath(folderDest(e), e.name);
    let now: NameState | null;
    try {
      now = folderMissing(e) ? null : stateAt(dest);
    } catch (err) {
      // no permission on a folder on the way: it could not be written either
      plan.errors.push({ path: e.path, message: `cannot look at ${dest}: ${fsErrorText(err)}` });
      continue;
    }
    e.existing = now;
    if (now === null) e.action = 'create';
    else if (e.kind === 'symlink')
      e.action = now.type === 'symlink' && sameLink(dest, e.node) ? 'identical' : 'conflict';
    else if (now.type !== 'file' || now.size !== (e.node.size ?? 0)) e.action = 'conflict';
    else if (!closeTimes(now.mtimeNs, e.node.mtimeNs)) e.action = 'conflict';
    else {
      reader ??= new ContentReader(repo);
      e.action = (await reader.same(dest, e.node, signal)) ? 'identical' : 'conflict';
    }
    const t = plan.totals;
    t.files++;
    t.bytes += e.kind === 'file' ? (e.node.size ?? 0) : 0;
    if (e.action === 'create') t.create++;
    else if (e.action === 'identical') t.identical++;
    else t.conflicts++;
  }
}

const closeTimes = (a: string, b: string): boolean => {
  const d = BigInt(a) - BigInt(b);
  return (d < 0n ? -d : d) <= MTIME_SLACK_NS;
};

function sameLink(path: string, node: TreeNode): boolean {
  try {
    return decodeFsName(readlinkSync(fsPath(path), { encoding: 'buffer' })) === (node.target ?? '');
  } catch {
    return false; // changed between lstat and readlink: not the same link, the policy decides
  }
}

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;

/**
 * Decides whether a file on disk holds exactly the content recorded for a snapshot file: the file is cut
 * with the repository's own chunker (its parameters and secret gear table) and each piece's keyed blob id
 * is compared with the recorded list, stopping at the first difference. Same ids means the same bytes (a
 * keyed BLAKE3 collision aside); nothing is read from the repository.
 */
export class ContentReader {
  private readonly idKey: Buffer;
  private readonly window: ChunkWindow;

  constructor(repo: Pick<Repository, 'config' | 'key'>) {
    const chunker = new Chunker(repo.config.chunker, gearTableFromSeed(repo.key.chunkerSeed));
    this.idKey = repo.key.idKey;
    this.window = new ChunkWindow(chunker);
  }

  async same(path: string, node: TreeNode, signal: AbortSignal | undefined): Promise<boolean> {
    const content = node.content ?? [];
    let fh;
    try {
      // never follows a link, never waits on a FIFO put there meanwhile
      fh = await open(fsPath(path), constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch {
      return false; // it cannot be read, so it cannot be shown to be the same: a conflict, the policy decides
    }
    try {
      const st = await fh.stat();
      if (!st.isFile() || st.size !== (node.size ?? 0)) return false;
      const w = this.window;
      w.reset();
      let i = 0;
      while (!w.done) {
        throwIfAborted(signal);
        for (let at = w.readAt(); at >= 0; at = w.readAt())
          w.added((await fh.read(w.buf, at, w.buf.length - at, null)).bytesRead);
        for (let chunk = w.next(); chunk; chunk = w.next())
          if (content[i++] !== keyedHashHex(this.idKey, chunk)) return false;
      }
      return i === content.length;
    } finally {
      await fh.close();
    }
  }
}
