import { recordAudit } from '../audit/audit.ts';
import { syncPolicies } from '../retention/policies.ts';
import { syncTiers } from '../retention/tiers.ts';
import { objectNames } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import { adoptOrphanPacks } from '../backup/backup.ts';
import type { RebuildResult } from './types.ts';
import { walkTreeSkippingDamage } from './damage.ts';
import { rebuildHistory } from '../history/sync.ts';

/**
 * Rebuilds the catalog's cache of a repository from the repository and the password alone (disaster
 * recovery on a new machine, or a lost/damaged catalog): indexes, packs no index lists (from their
 * trailers), snapshots, and the trees of each source's latest snapshot (so the next backup skips unchanged
 * files again). Damage does not stop it: a damaged index, snapshot, pack trailer or folder listing is
 * skipped and listed in `damaged`, everything else is rebuilt (the catalog is usable either way).
 */
export async function rebuildCatalog(repo: Repository, signal?: AbortSignal): Promise<RebuildResult> {
  repo.catalog.clearRepository(repo.rid);
  // retention state too: learned back from the repository's policies/, tiers/ and prune/ objects
  for (const t of ['retention_policies', 'snapshot_tiers', 'prune_marks', 'prune_records', 'gone_packs'])
    repo.catalog.db.prepare(`DELETE FROM ${t} WHERE rid = ?`).run(repo.rid);
  const damaged: RebuildResult['damaged'] = [];
  const indexes = await repo.syncIndexes(signal);
  for (const id of repo.damagedIndexes)
    damaged.push({
      object: objectNames.index(id),
      message: 'does not decrypt (damaged, altered or foreign)',
    });
  const adoptedPacks = await adoptOrphanPacks(repo, signal, (object, message) =>
    damaged.push({ object, message: `pack trailer unreadable, pack not adopted: ${message}` }),
  );
  const snaps = await repo.syncSnapshots(signal);
  for (const id of repo.damagedSnapshots)
    damaged.push({
      object: objectNames.snapshot(id),
      message: 'does not decrypt (damaged, altered or foreign): this snapshot is not listed',
    });
  await syncPolicies(repo, signal);
  await syncTiers(repo, signal);
  const latest = new Map<string, { id: string; tree: string }>();
  for (const s of snaps) latest.set(s.source, { id: s.id, tree: s.tree });
  for (const { id, tree } of latest.values()) {
    const walk = walkTreeSkippingDamage(
      repo,
      tree,
      '',
      (d) =>
        damaged.push({
          object: `tree ${d.tree.slice(0, 16)}`,
          snapshot: id,
          path: d.path,
          message: d.message,
        }),
      signal,
    );
    for await (const _ of walk) {
      /* loading caches each tree */
    }
  }
  // the file history from every snapshot; a damaged listing already named (same tree, same folder) is not
  // named again for an older snapshot that shares it
  await rebuildHistory(
    repo,
    (d) =>
      damaged.some((x) => x.object === `tree ${d.tree.slice(0, 16)}` && x.path === d.path) ||
      damaged.push({
        object: `tree ${d.tree.slice(0, 16)}`,
        snapshot: d.snapshot,
        path: d.path,
        message: d.message,
      }),
    signal,
  );
  await recordAudit(repo, {
    actor: 'cli',
    action: 'rebuild-catalog',
    subject: repo.config.id,
    details: { indexes, adoptedPacks, snapshots: snaps.length, damaged: damaged.length },
  });
  return {
    snapshots: snaps.length,
    indexes,
    packs: repo.catalog.packs(repo.rid).length,
    adoptedPacks,
    damaged,
  };
}
