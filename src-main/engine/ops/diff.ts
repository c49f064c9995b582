import type { TreeNode } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import type { DiffEntry } from './types.ts';
import { walkTree } from './walk.ts';

/** What changed from snapshot `a` to snapshot `b`: unchanged folders (same tree id) are skipped whole. */
export async function diffSnapshots(repo: Repository, refA: string, refB: string): Promise<DiffEntry[]> {
  const a = repo.resolveSnapshot(refA);
  const b = repo.resolveSnapshot(refB);
  const out: DiffEntry[] = [];
  const all = async (treeId: string, prefix: string, change: 'added' | 'removed'): Promise<void> => {
    for await (const { path } of walkTree(repo, treeId, prefix)) out.push({ path, change });
  };
  const cmp = async (ta: string, tb: string, prefix: string): Promise<void> => {
    if (ta === tb) return;
    const [x, y] = await Promise.all([repo.loadTree(ta), repo.loadTree(tb)]);
    const mx = new Map(x.nodes.map((n) => [n.name, n]));
    const my = new Map(y.nodes.map((n) => [n.name, n]));
    const names = [...new Set([...mx.keys(), ...my.keys()])].sort();
    for (const name of names) {
      const p = prefix ? `${prefix}/${name}` : name;
      const na = mx.get(name);
      const nb = my.get(name);
      if (!na && nb) {
        out.push({ path: p, change: 'added' });
        if (nb.type === 'dir' && nb.subtree) await all(nb.subtree, p, 'added');
      } else if (na && !nb) {
        out.push({ path: p, change: 'removed' });
        if (na.type === 'dir' && na.subtree) await all(na.subtree, p, 'removed');
      } else if (na && nb) {
        if (na.type !== nb.type) out.push({ path: p, change: 'type-changed' });
        else if (na.type === 'dir') {
          if (na.mode !== nb.mode) out.push({ path: p, change: 'metadata' });
          if (na.subtree && nb.subtree) await cmp(na.subtree, nb.subtree, p);
        } else if (!sameContent(na, nb)) out.push({ path: p, change: 'modified' });
        else if (na.mode !== nb.mode || na.mtimeNs !== nb.mtimeNs) out.push({ path: p, change: 'metadata' });
      }
    }
  };
  await cmp(a.tree, b.tree, '');
  return out;
}

function sameContent(a: TreeNode, b: TreeNode): boolean {
  if (a.size !== b.size || a.target !== b.target) return false;
  const ca = a.content ?? [];
  const cb = b.content ?? [];
  return ca.length === cb.length && ca.every((id, i) => id === cb[i]);
}
