import { recordAudit } from '../audit/audit.ts';
import { syncPolicies } from '../retention/policies.ts';
import { syncTiers } from '../retention/tiers.ts';
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
  // retention state too: learned back from the repository's policies/, tiers/ and prune/ objects
  for (const t of ['retention_policies', 'snapshot_tiers', 'prune_marks', 'prune_records', 'gone_packs'])
    repo.catalog.db.prepare(`DELETE FROM ${t} WHERE rid = ?`).run(repo.rid);
  const indexes = await repo.syncIndexes(signal);
  const adoptedPacks = await adoptOrphanPacks(repo, signal);
  const snaps = await repo.syncSnapshots(signal);
  await syncPolicies(repo, signal);
  await syncTiers(repo, signal);
  const latest = new Map<string, string>();
  for (const s of snaps) latest.set(s.source, s.tree);
  for (const tree of latest.values()) {
    for await (const _ of walkTree(repo, tree, '', signal)) {
      /* loading caches each tree */
    }
  }
  await recordAudit(repo, {
    actor: 'cli',
    action: 'rebuild-catalog',
    subject: repo.config.id,
    details: { indexes, adoptedPacks, snapshots: snaps.length },
  });
  return { snapshots: snaps.length, indexes, packs: repo.catalog.packs(repo.rid).length, adoptedPacks };
}
