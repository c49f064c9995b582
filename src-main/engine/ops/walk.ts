import type { Tree, TreeNode } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import { BulwarkError } from '../errors.ts';

/**
 * A name from a tree is only ever used as one path segment. Anything that could climb out of the restore
 * target or be read differently by the OS ("..", "a/b", absolute, NUL, empty, backslash) is refused.
 */
export function isSafeName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= 4096 &&
    name !== '.' &&
    name !== '..' &&
    !name.includes('/') &&
    !name.includes('\\') &&
    !name.includes('\0')
  );
}

/** Depth-first walk of a snapshot tree: yields every node with its '/'-joined path. */
export async function* walkTree(
  repo: Repository,
  treeId: string,
  prefix = '',
  signal?: AbortSignal,
): AsyncGenerator<{ path: string; node: TreeNode }> {
  const tree = await repo.loadTree(treeId, signal);
  for (const node of tree.nodes) {
    const path = prefix ? `${prefix}/${node.name}` : node.name;
    yield { path, node };
    if (node.type === 'dir' && node.subtree) yield* walkTree(repo, node.subtree, path, signal);
  }
}

/** Finds the node at `path` ('/'-separated) inside the tree, or throws NOT_FOUND. */
export async function findNode(
  repo: Repository,
  rootTree: string,
  path: string,
): Promise<TreeNode | { type: 'dir'; subtree: string; name: '' }> {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  let tree: Tree = await repo.loadTree(rootTree);
  let node: TreeNode | undefined;
  if (parts.length === 0) return { type: 'dir', subtree: rootTree, name: '' };
  for (const [i, part] of parts.entries()) {
    node = tree.nodes.find((n) => n.name === part);
    if (!node)
      throw new BulwarkError('NOT_FOUND', `${path}: not in this snapshot`, {
        hint: 'List the snapshot with `bulwark ls`.',
      });
    if (i < parts.length - 1) {
      if (node.type !== 'dir' || !node.subtree)
        throw new BulwarkError('NOT_FOUND', `${path}: ${parts.slice(0, i + 1).join('/')} is not a folder`);
      tree = await repo.loadTree(node.subtree);
    }
  }
  return node!;
}

export function nsToDate(ns: string): Date {
  return new Date(Number(BigInt(ns) / 1_000_000n));
}
