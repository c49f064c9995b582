/**
 * Builds the snapshot's trees bottom-up as the scan and the readers report: a folder's listing is stored
 * once every file of it was read and every subfolder stored; the root tree last, once the scan is done.
 */
import { BulwarkError } from '../../errors.ts';
import type { Tree, TreeNode } from '../../repo/format.ts';
import { sameListing, sortByName } from './tree-nodes.ts';

export interface DirState {
  id: number;
  path: string;
  parent: DirState | undefined;
  /** this directory's node in its parent (undefined for the virtual root) */
  node: TreeNode | undefined;
  nodes: TreeNode[];
  childDirs: Map<string, TreeNode>;
  /** files still being read and subfolders not yet stored */
  pending: number;
  /** of `pending`, the files still being read */
  filesPending: number;
  /** entries the scanner's flow still counts for this folder until its files are read (ScanFeed) */
  heldEntries: number;
  /** the parent snapshot's listing of this folder, by name */
  prev: Map<string, TreeNode> | undefined;
  /** that listing's id, when it may stand for this folder if nothing in it changed */
  prevId: string | undefined;
}

const newDir = (
  id: number,
  path: string,
  parent: DirState | undefined,
  node: TreeNode | undefined,
): DirState => ({
  id,
  path,
  parent,
  node,
  nodes: [],
  childDirs: new Map(),
  pending: 0,
  filesPending: 0,
  heldEntries: 0,
  prev: undefined,
  prevId: undefined,
});

export class TreeBuilder {
  /** the snapshot's root tree: one node per backed-up path */
  readonly root: DirState = newDir(0, '', undefined, undefined);
  private readonly dirs = new Map<number, DirState>();
  /** nodes of backed-up folders, by the scanner's (negative) id for them */
  private readonly rootDirNodes = new Map<number, TreeNode>();
  private scanDone = false;
  private resolveRoot!: (id: string) => void;
  /** the root tree's id, once every folder is stored */
  readonly rootTree: Promise<string> = new Promise((res) => (this.resolveRoot = res));
  private readonly save: (tree: Tree) => string;
  private readonly onDirStored: () => void;
  private readonly onFilesRead: (d: DirState) => void;

  /** `onFilesRead`: the last file of a folder that had files to read was read (its subfolders may still wait) */
  constructor(
    save: (tree: Tree) => string,
    onDirStored: () => void,
    onFilesRead: (d: DirState) => void = () => undefined,
  ) {
    this.save = save;
    this.onDirStored = onDirStored;
    this.onFilesRead = onFilesRead;
  }

  /** A backed-up folder: a node of the root tree, scanned as `dirId`. */
  expectRootDir(dirId: number, node: TreeNode): void {
    this.root.pending++;
    this.rootDirNodes.set(dirId, node);
  }

  /** A subfolder listed in `d`: `d` waits for it. */
  expectDir(d: DirState, node: TreeNode): void {
    d.childDirs.set(node.name, node);
    d.pending++;
  }

  /** A file of `d` sent to the readers: `d` waits for it. */
  expectFile(d: DirState): void {
    d.pending++;
    d.filesPending++;
  }

  /** The parent the scanner named for a folder, and the folder's node in it. */
  locate(parentId: number, dirId: number, name: string, path: string): { parent: DirState; node: TreeNode } {
    const parent = parentId === 0 ? this.root : this.dirs.get(parentId);
    if (!parent) throw new BulwarkError('INTERNAL', `scanner reported ${path} before its parent`);
    const node = parentId === 0 ? this.rootDirNodes.get(dirId) : parent.childDirs.get(name);
    if (!node) throw new BulwarkError('INTERNAL', `scanner reported an unexpected folder ${path}`);
    return { parent, node };
  }

  /** A folder the scanner listed; its entries are added by the caller, then `listed` is called. */
  open(
    dirId: number,
    path: string,
    parent: DirState,
    node: TreeNode,
    prev: Map<string, TreeNode> | undefined,
    prevId?: string,
  ): DirState {
    const d = newDir(dirId, path, parent, node);
    d.prev = prev;
    d.prevId = prev ? prevId : undefined;
    this.dirs.set(d.id, d);
    return d;
  }

  /** Every entry of `d` is added: stored now if nothing of it is pending. */
  listed(d: DirState): void {
    if (d.pending === 0) this.complete(d);
  }

  /** A file of `d` was read (or dropped as unreadable). */
  fileDone(d: DirState): void {
    d.pending--;
    if (--d.filesPending === 0) this.onFilesRead(d);
    if (d.pending === 0) this.finishIfComplete(d);
  }

  /** The scanner walked every folder: the root tree is stored once nothing is pending. */
  scanFinished(): void {
    this.scanDone = true;
    this.finishIfComplete(this.root);
  }

  private complete(d: DirState): void {
    sortByName(d.nodes);
    // A folder where nothing changed is the parent's listing, which the repository and the catalog hold:
    // no encoding, hashing or lookup (a no-change backup of 40 000 files in 3 333 folders: ~0.25 s).
    const id =
      d.prevId !== undefined && d.prev !== undefined && sameListing(d.nodes, d.prev)
        ? d.prevId
        : this.save({ nodes: d.nodes });
    this.dirs.delete(d.id);
    if (d.node) d.node.subtree = id;
    this.onDirStored();
    const parent = d.parent;
    if (parent) {
      parent.pending--;
      if (parent.pending === 0) this.finishIfComplete(parent);
    }
  }

  private finishIfComplete(d: DirState): void {
    if (d !== this.root) return this.complete(d);
    if (this.scanDone && this.root.pending === 0) {
      sortByName(this.root.nodes);
      this.resolveRoot(this.save({ nodes: this.root.nodes }));
    }
  }
}
