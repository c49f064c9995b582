/** Tree nodes from scanned entries, and the encoding that makes equal folders equal blobs. */
import type { Tree, TreeNode } from '../../repo/format.ts';
import type { ScannedEntry } from '../protocol.ts';

/** Whether the parent snapshot's node is this very file, unchanged (then its content is not read again). */
export function sameFile(
  prev: TreeNode | undefined,
  e: ScannedEntry,
): prev is TreeNode & { content: string[] } {
  return (
    prev !== undefined &&
    prev.type === 'file' &&
    prev.content !== undefined &&
    prev.size === e.size &&
    prev.mtimeNs === e.mtimeNs &&
    prev.ctimeNs === e.ctimeNs &&
    prev.inode === e.inode &&
    prev.changedDuringRead !== true
  );
}

export function nodeFromEntry(e: ScannedEntry): TreeNode {
  const n: TreeNode = {
    name: e.name,
    type: e.type,
    mode: e.mode,
    mtimeNs: e.mtimeNs,
    ctimeNs: e.ctimeNs,
    inode: e.inode,
    uid: e.uid,
    gid: e.gid,
  };
  if (e.type === 'file') n.size = e.size;
  // Hard links: the device too, so a restore links only names of one file (equal inode numbers on two
  // devices are two files). Only for files with several names: other trees stay as they were.
  if (e.nlink !== undefined) {
    n.dev = e.dev;
    n.nlink = e.nlink;
  }
  if (e.target !== undefined) n.target = e.target;
  return n;
}

/** Orders a folder's nodes by name (code units), the order every tree blob has. */
export function sortByName(nodes: TreeNode[]): void {
  nodes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const KEY_ORDER: (keyof TreeNode)[] = [
  'name',
  'type',
  'mode',
  'mtimeNs',
  'ctimeNs',
  'inode',
  'dev',
  'nlink',
  'uid',
  'gid',
  'size',
  'content',
  'subtree',
  'target',
  'changedDuringRead',
];

/** Whether two nodes say the same (every field, the blob list element by element). */
function sameNode(a: TreeNode, b: TreeNode): boolean {
  let fields = 0;
  for (const k of Object.keys(a) as (keyof TreeNode)[]) {
    const v = a[k];
    if (v === undefined) continue;
    fields++;
    const w = b[k];
    if (k === 'content') {
      const x = v as string[];
      const y = w as string[] | undefined;
      if (!Array.isArray(y) || x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    } else if (v !== w) return false;
  }
  for (const k of Object.keys(b) as (keyof TreeNode)[]) if (b[k] !== undefined) fields--;
  return fields === 0;
}

/**
 * Whether a folder's nodes (sorted by name) are exactly the parent snapshot's listing of it (in its stored
 * order): then that listing's blob is this folder's too, and nothing needs encoding or storing.
 */
export function sameListing(nodes: readonly TreeNode[], prev: ReadonlyMap<string, TreeNode>): boolean {
  if (nodes.length !== prev.size) return false;
  let i = 0;
  for (const p of prev.values()) if (!sameNode(nodes[i++]!, p)) return false;
  return true;
}

/** Serializes a tree with a fixed key order so equal directories give equal tree blobs (and dedup). */
export function encodeTree(tree: Tree): Buffer {
  const nodes = tree.nodes.map((n) => {
    const o: Record<string, unknown> = {};
    for (const k of KEY_ORDER) if (n[k] !== undefined) o[k] = n[k];
    return o;
  });
  return Buffer.from(JSON.stringify({ nodes }));
}
