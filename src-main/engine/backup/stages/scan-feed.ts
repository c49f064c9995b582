/**
 * Turns what the scan finds into the run's work: each entry becomes a node of its folder's tree; a file
 * the parent snapshot holds unchanged keeps its content, any other goes to the readers; folders wait
 * for their own listing from the scanner.
 */
import { readlinkSync, type BigIntStats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { TreeNode } from '../../repo/format.ts';
import { decodeFsName, fsPath } from '../../util/fs-names.ts';
import { nodeType, scannedEntry } from '../entry.ts';
import { FLOW_QUEUED_ENTRIES } from '../flow.ts';
import type { ScannedEntry, ToWorker } from '../protocol.ts';
import type { ParentTrees } from './parent-trees.ts';
import type { RunTally } from './run-tally.ts';
import type { DirState, TreeBuilder } from './tree-builder.ts';
import { nodeFromEntry } from './tree-nodes.ts';
import type { DirMessage } from './worker-hub.ts';

/** What the feed asks of the parent snapshot (ParentTrees). */
export type ParentListings = Pick<ParentTrees, 'reusable' | 'reusableTree' | 'folder'>;

export interface ScanFeedHooks {
  /** a file must be read (new, changed, or its old content is not reusable) */
  read(d: DirState, node: TreeNode, path: string, isNew: boolean, e: ScannedEntry): void;
  /** a folder's entries are all handed on (readers get their partial batches) */
  folderDone(path: string): void;
}

/** Folders the scanner walks, each with the (negative) id the tree builder knows it by. */
export type ScanRoots = { path: string; dirId: number }[];

/** The tree builder's id of the i-th backed-up path when it is a folder (the scanner numbers from 1 up). */
const rootDirId = (i: number): number => -(i + 1);

/** The backed-up paths that are folders, as the scanner walks them (the same as ScanFeed.roots returns). */
export function scanRootsOf(paths: readonly string[], stats: readonly BigIntStats[]): ScanRoots {
  return paths.flatMap((p, i) => (nodeType(stats[i]!) === 'dir' ? [{ path: p, dirId: rootDirId(i) }] : []));
}

export class ScanFeed {
  private readonly tree: TreeBuilder;
  private readonly parents: ParentListings;
  private readonly tally: RunTally;
  private readonly flow: Int32Array;
  private readonly hooks: ScanFeedHooks;

  constructor(
    tree: TreeBuilder,
    parents: ParentListings,
    tally: RunTally,
    flow: Int32Array,
    hooks: ScanFeedHooks,
  ) {
    this.tree = tree;
    this.parents = parents;
    this.tally = tally;
    this.flow = flow;
    this.hooks = hooks;
  }

  /**
   * Root entries: each backed-up path becomes one node of the snapshot's root tree, named by its basename.
   * Returns the folders the scanner must walk (scanRootsOf). `stats`: each path's lstat, as the scan took
   * them (ScanAhead.rootStats), so the run and the scanner agree on what each path is.
   */
  roots(paths: string[], stats: readonly BigIntStats[]): ScanRoots {
    const root = this.tree.root;
    const used = new Set<string>();
    for (const [i, p] of paths.entries()) {
      let name = basename(p) || 'root';
      for (let k = 2; used.has(name); k++) name = `${basename(p) || 'root'}~${k}`;
      used.add(name);
      const e = scannedEntry(name, stats[i]!);
      const n = nodeFromEntry(e);
      root.nodes.push(n);
      if (e.type === 'dir') {
        this.tree.expectRootDir(rootDirId(i), n);
      } else if (e.type === 'file') {
        this.file(root, n, e, p, true);
      } else if (e.type === 'symlink') {
        n.target = decodeFsName(readlinkSync(fsPath(p), { encoding: 'buffer' }));
      }
    }
    return scanRootsOf(paths, stats);
  }

  /**
   * A folder the scanner listed. Its entries stay counted in the scanner's flow (flow.ts) until its files
   * are read (`filesRead`): a folder waiting for one changed file holds its whole listing and its parent's,
   * and without that bound a re-scan of a million files with one change in each folder of 1 000 walked on
   * while the readers started, holding hundreds of folders (peak 460-550 MB instead of ~250).
   */
  async folder(m: DirMessage): Promise<void> {
    const counted = m.entries.length + 1;
    let held: DirState | undefined;
    try {
      const { parent, node } = this.tree.locate(m.parentId, m.dirId, m.name, m.path);
      const prevNode = parent.prev?.get(node.name);
      const prev = prevNode?.type === 'dir' ? await this.parents.folder(prevNode.subtree, m.path) : undefined;
      const prevId = prev && prevNode?.subtree;
      const d = this.tree.open(
        m.dirId,
        m.path,
        parent,
        node,
        prev,
        prevId && this.parents.reusableTree(prevId) ? prevId : undefined,
      );
      if (m.error) this.tally.error(m.path, m.error);
      for (const s of m.skipped ?? []) this.tally.error(s.path, s.message);
      for (const e of m.entries) {
        const n = nodeFromEntry(e);
        d.nodes.push(n);
        if (e.type === 'file') this.file(d, n, e, m.path, false);
        else if (e.type === 'dir') this.tree.expectDir(d, n);
      }
      this.hooks.folderDone(m.path);
      this.tree.listed(d);
      if (d.filesPending > 0) held = d;
    } finally {
      if (held) held.heldEntries = counted;
      else this.release(counted);
    }
  }

  /** Every file of `d` was read (TreeBuilder): the scanner's flow stops counting its entries. */
  filesRead(d: DirState): void {
    if (d.heldEntries === 0) return;
    this.release(d.heldEntries);
    d.heldEntries = 0;
  }

  /** The scanner may list more folders now (flow.ts). */
  private release(entries: number): void {
    Atomics.sub(this.flow, FLOW_QUEUED_ENTRIES, entries);
    Atomics.notify(this.flow, FLOW_QUEUED_ENTRIES);
  }

  /**
   * `at`: the file's folder, or with `isRoot` the backed-up file's own path. A file's path is joined only
   * when it must be read: a re-scan keeps most files, and 20 000 joins were ~15 % of a no-change run's work
   * after the key derivation.
   */
  private file(d: DirState, n: TreeNode, e: ScannedEntry, at: string, isRoot: boolean): void {
    this.tally.fileSeen(e.name);
    const prev = d.prev?.get(e.name);
    if (this.parents.reusable(prev, e)) {
      n.content = prev.content;
      this.tally.fileUnchanged(e.size);
    } else {
      this.hooks.read(d, n, isRoot ? at : join(at, e.name), prev === undefined, e);
    }
  }
}

export interface ScanSelection {
  include?: string[] | undefined;
  exclude?: string[] | undefined;
  skipPaths?: string[] | undefined;
}

/** The scanner's order: walk these folders, leaving out what the patterns exclude. */
export function scanRequest(
  roots: ScanRoots,
  paths: string[],
  flow: Int32Array,
  sel: ScanSelection,
): ToWorker {
  const filtered = Boolean(sel.include?.length || sel.exclude?.length || sel.skipPaths?.length);
  return {
    type: 'scan',
    roots,
    flow: flow.buffer as SharedArrayBuffer,
    ...(filtered
      ? {
          filter: {
            roots: paths,
            include: sel.include ?? [],
            exclude: sel.exclude ?? [],
            skipPaths: (sel.skipPaths ?? []).map((p) => resolve(p)),
          },
        }
      : {}),
  };
}
