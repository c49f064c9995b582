import { BulwarkError } from '../errors.ts';
import type { TreeNode } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import { DAMAGED_FOLDER, loadTreeOrDamage } from './damage.ts';
import type { LsEntry } from './types.ts';
import { findChild, nsToDate } from './walk.ts';

const VERIFY_HINT = 'Run `bulwark verify` to see what else is damaged; a new backup stores the folder again.';

/**
 * Lists a snapshot (or the part under `path`) recursively. A folder whose listing (tree blob) is damaged is
 * listed with `damaged` set and without contents; everything else is listed. Only a damaged folder on the
 * way to `path` (or the snapshot's top folder) leaves nothing to list: REPO_DAMAGED names that folder.
 */
export async function listSnapshot(repo: Repository, ref: string, path = ''): Promise<LsEntry[]> {
  const snap = repo.resolveSnapshot(ref);
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const prefix = parts.join('/');
  const out: LsEntry[] = [];
  const entry = (
    p: string,
    n: { type: LsEntry['type']; size?: number; mode?: number; mtimeNs?: string; target?: string },
  ): LsEntry => ({
    path: p,
    type: n.type,
    size: n.size ?? 0,
    mode: n.mode ?? 0,
    mtime: n.mtimeNs ? nsToDate(n.mtimeNs).toISOString() : '',
    ...(n.target !== undefined ? { target: n.target } : {}),
  });
  const unreadable = (folder: string, e: Error): BulwarkError =>
    new BulwarkError(
      'REPO_DAMAGED',
      `${folder || 'the top folder of the snapshot'}: ${DAMAGED_FOLDER}; nothing below it can be listed (${e.message})`,
      { hint: VERIFY_HINT, cause: e },
    );

  // Find the start, naming the folder whose listing is damaged if one on the way is.
  let node: TreeNode | undefined;
  let treeId = snap.tree;
  for (const [i, part] of parts.entries()) {
    const { tree, damage } = await loadTreeOrDamage(repo, treeId);
    if (damage) throw unreadable(parts.slice(0, i).join('/'), damage);
    node = findChild(tree.nodes, part);
    if (!node)
      throw new BulwarkError('NOT_FOUND', `${path}: not in this snapshot`, {
        hint: 'List the snapshot with `bulwark ls`.',
      });
    if (i < parts.length - 1) {
      if (node.type !== 'dir' || !node.subtree)
        throw new BulwarkError('NOT_FOUND', `${path}: ${parts.slice(0, i + 1).join('/')} is not a folder`);
      treeId = node.subtree;
    }
  }
  if (node && node.type !== 'dir') {
    out.push(entry(prefix, node));
    return out;
  }

  const visit = async (id: string, at: string, self: LsEntry | undefined): Promise<void> => {
    const { tree, damage } = await loadTreeOrDamage(repo, id);
    if (damage) {
      if (!self) throw unreadable(at, damage);
      self.damaged = `${DAMAGED_FOLDER}; its contents are not listed (${damage.message})`;
      return;
    }
    for (const n of tree.nodes) {
      const p = at ? `${at}/${n.name}` : n.name;
      const e = entry(p, n);
      out.push(e);
      if (n.type === 'dir' && n.subtree) await visit(n.subtree, p, e);
    }
  };
  const self = node ? entry(prefix, node) : undefined;
  if (self) out.push(self);
  const start = node ? node.subtree : snap.tree;
  if (start) await visit(start, prefix, self);
  return out;
}
