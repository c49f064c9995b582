import type { Repository } from '../repo/repository.ts';
import { adoptOrphanPacks } from '../backup/backup.ts';
import type { RebuildResult } from './types.ts';
import { walkTree } from './walk.ts';

/**
 * Rebuilds the catalog's cache of a repository from the repository and the password alone (disaster
 * recovery on a new machine, or a lost/damaged catalog): indexes, packs no index lists (from their
 * trailers), snapshots, and the trees of each source's latest snapshot (so the next backup skips unchanged
 * files again).
 */
export async function rebuildCatalog(repo: Repository, signal?: AbortSignal): Promise<RebuildResult> {
  repo.catalog.clearRepository(repo.rid);
  const indexes = await repo.syncIndexes(signal);
  const adoptedPacks = await adoptOrphanPacks(repo, signal);
  const snaps = await repo.syncSnapshots(signal);
  const latest = new Map<string, string>();
  for (const s of snaps) latest.set(s.source, s.tree);
  for (const tree of latest.values()) {
    for await (const _ of walkTree(repo, tree, '', signal)) {
      /* loading caches each tree */
    }
  }
  repo.catalog.audit('cli', 'rebuild-catalog', repo.config.id, {
    indexes,
    adoptedPacks,
    snapshots: snaps.length,
  });
  return { snapshots: snaps.length, indexes, packs: repo.catalog.packs(repo.rid).length, adoptedPacks };
}
