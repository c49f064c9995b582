import type { Repository } from '../repo/repository.ts';
import type { LsEntry } from './types.ts';
import { findNode, nsToDate, walkTree } from './walk.ts';

/** Lists a snapshot (or the part under `path`) recursively. */
export async function listSnapshot(repo: Repository, ref: string, path = ''): Promise<LsEntry[]> {
  const snap = repo.resolveSnapshot(ref);
  const start = await findNode(repo, snap.tree, path);
  const prefix = path
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .join('/');
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
  if (start.type !== 'dir') {
    out.push(entry(prefix, start));
    return out;
  }
  if (prefix && 'mtimeNs' in start) out.push(entry(prefix, start));
  if (start.subtree)
    for await (const { path: p, node } of walkTree(repo, start.subtree, prefix)) out.push(entry(p, node));
  return out;
}
