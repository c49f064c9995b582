/**
 * Reading a snapshot's files without restoring them to disk: the start of a file for a preview, a whole
 * file or folder streamed for a download. Blobs are read, decrypted and verified one at a time (never a
 * whole file in memory); a damaged blob or folder listing fails with its path.
 */
import { BulwarkError, throwIfAborted } from '../errors.ts';
import type { SnapshotManifest, TreeNode } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import { damagedFolderText, loadTreeOrDamage } from './damage.ts';
import { findNode, isSafeName } from './walk.ts';

/** A snapshot and the entry at `path` in it ('' or '/': its root, a folder without a name). */
export async function findSnapshotEntry(
  repo: Repository,
  snapshot: string,
  path: string,
): Promise<{ snapshot: SnapshotManifest; node: TreeNode | { type: 'dir'; subtree: string; name: '' } }> {
  const snap = repo.resolveSnapshot(snapshot);
  return { snapshot: snap, node: await findNode(repo, snap.tree, path) };
}

/** The content of a file, blob by blob. */
export async function* readFileContent(
  repo: Repository,
  node: TreeNode,
  signal?: AbortSignal,
): AsyncGenerator<Buffer> {
  if (node.type !== 'file') throw new BulwarkError('INVALID_ARGUMENT', `${node.name} is not a file`);
  for (const id of node.content ?? []) {
    throwIfAborted(signal);
    yield await repo.readBlob(id, signal);
  }
}

/** The first `max` bytes of a file (fewer when it is shorter); only the blobs needed are read. */
export async function readFileStart(
  repo: Repository,
  node: TreeNode,
  max: number,
  signal?: AbortSignal,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  for await (const blob of readFileContent(repo, node, signal)) {
    parts.push(have + blob.length > max ? blob.subarray(0, max - have) : blob);
    have += Math.min(blob.length, max - have);
    if (have >= max) break;
  }
  return Buffer.concat(parts, have);
}

/** A file (or an empty folder) under a folder of a snapshot, with its path relative to that folder. */
export interface FolderFile {
  /** '/'-separated, below the folder */
  path: string;
  node: TreeNode;
}

/**
 * Every file and empty folder below a folder of a snapshot, depth first. Symlinks, FIFOs and devices are
 * left out (a download holds file contents only), and so are names a restore would refuse (isSafeName).
 * A damaged folder listing fails with its path: a download must not look complete when it is not.
 */
export async function listFolderFiles(
  repo: Repository,
  treeId: string,
  shown: string,
  signal?: AbortSignal,
): Promise<FolderFile[]> {
  const out: FolderFile[] = [];
  const walk = async (id: string, prefix: string): Promise<void> => {
    throwIfAborted(signal);
    const { tree, damage } = await loadTreeOrDamage(repo, id, signal);
    if (damage)
      throw new BulwarkError(
        'REPO_DAMAGED',
        damagedFolderText([shown, prefix].filter(Boolean).join('/') || '.', damage),
        {
          cause: damage,
        },
      );
    for (const node of tree.nodes) {
      if (!isSafeName(node.name)) continue;
      const path = prefix ? `${prefix}/${node.name}` : node.name;
      if (node.type === 'file') out.push({ path, node });
      else if (node.type === 'dir') {
        const before = out.length;
        if (node.subtree) await walk(node.subtree, path);
        if (out.length === before) out.push({ path, node }); // empty: kept as a folder
      }
    }
  };
  await walk(treeId, '');
  return out;
}
