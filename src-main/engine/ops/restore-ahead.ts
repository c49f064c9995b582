/**
 * A restore planned while the key is derived. `bulwark restore` waits ~0.3-0.5 s for scrypt with its main
 * thread idle, then planned: for 80 000 small files that was 0.5-0.8 s more before the first file was
 * written. A plan needs no key when the catalog holds the snapshot and every listing it reads (they are
 * kept in plain text, by id) and the files it finds at the destination need no comparison of content. So
 * the plan is made from the catalog alone while the key is derived, and the command takes it only if,
 * once the repository is open and its snapshots are brought up to date, the same reference still names
 * the same snapshot. Listings are named by the hash of their content, so the same snapshot means the same
 * trees. What the plan saw at the destination is looked at again by the run (restore.ts), as for any plan.
 *
 * Anything the plan cannot do from the catalog (a listing it does not hold, a file that exists and must be
 * compared) stops it with AheadStop. Any failure at all leaves no plan made ahead: the command plans again
 * after the key, and that plan meets and reports the same failure.
 */
import type { Catalog } from '../catalog/catalog.ts';
import type { MasterKey } from '../crypto/keys.ts';
import type { RepoConfig, SnapshotManifest, Tree } from '../repo/format.ts';
import { findSnapshot } from '../repo/repository.ts';
import { planRestore, type PlanSource, type RestorePlan, type RestorePlanOptions } from './restore-plan.ts';

/** What a plan made ahead cannot do without the repository's key. */
export class AheadStop extends Error {}

/** The snapshot and listings as the catalog holds them, and nothing that needs the key. */
export class CatalogPlanSource implements PlanSource {
  readonly catalog: Catalog;
  readonly rid: number;

  constructor(catalog: Catalog, rid: number) {
    this.catalog = catalog;
    this.rid = rid;
  }

  resolveSnapshot(ref: string): SnapshotManifest {
    return findSnapshot(this.catalog.snapshots(this.rid), ref);
  }

  loadTree(id: string): Promise<Tree> {
    const data = this.catalog.getTree(this.rid, id);
    if (!data) return Promise.reject(new AheadStop(`listing ${id} is not in the catalog`));
    return Promise.resolve(JSON.parse(data.toString('utf8')) as Tree);
  }

  get config(): RepoConfig {
    throw new AheadStop('the repository config is read with the key');
  }

  get key(): MasterKey {
    throw new AheadStop('comparing a file needs the key');
  }
}

/**
 * Plans a restore from the catalog alone (see the top of this file); undefined when it cannot. `repoId`
 * is the repository's config id (readable before the key).
 */
export async function planAhead(
  catalog: Catalog,
  repoId: string,
  opts: RestorePlanOptions,
): Promise<RestorePlan | undefined> {
  const rid = catalog.knownRepository(repoId);
  if (rid === undefined) return undefined;
  try {
    return await planRestore(new CatalogPlanSource(catalog, rid), opts);
  } catch {
    // not lost: the plan made after the key meets the same failure and reports it (see the top)
    return undefined;
  }
}

/** Whether a plan made ahead is the one `ref` asks for now that the catalog is up to date. */
export function planStillHolds(
  plan: RestorePlan,
  snapshots: readonly SnapshotManifest[],
  ref: string,
): boolean {
  try {
    return findSnapshot(snapshots, ref).id === plan.snapshotId;
  } catch {
    // no such snapshot any more: the plan made after the key says so
    return false;
  }
}
