/**
 * Reading past damage: one damaged tree blob must not stop a restore, a listing or a catalog rebuild. The
 * folder it describes is skipped and named by its path (a person knows "Documents/2024", not a blob id),
 * everything else is read, and the damaged copy is recorded in the catalog (damaged_blobs) so the next
 * backup stores that folder's listing again instead of deduplicating against the damaged one.
 */
import { isBulwarkError, type BulwarkError } from '../errors.ts';
import type { Tree, TreeNode } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';

/** What reading a tree needs of a repository (a plan made before the key reads the catalog only). */
export type TreeSource = Pick<Repository, 'loadTree' | 'catalog' | 'rid'>;

/** What restore, ls and rebuild say about a folder whose tree blob cannot be read. */
export const DAMAGED_FOLDER = "this folder's listing is damaged in the repository";

/**
 * Whether a read failed because the repository's copy is damaged or gone (a blob that does not
 * authenticate, a blob no index lists, a pack that is missing), as opposed to a failure of the moment
 * (network, permission, cancel) that must stop the operation.
 */
export function isDamage(e: unknown): e is BulwarkError {
  return isBulwarkError(e) && (e.code === 'CORRUPT' || e.code === 'REPO_DAMAGED' || e.code === 'NOT_FOUND');
}

/**
 * Records in the catalog that the located copy of blob `id` failed to read with `e` (it does not
 * authenticate, or its pack is gone), so backups stop reusing it. Other failures record nothing: a blob no
 * index lists is not reused anyway, and a failure of the moment says nothing about the copy.
 */
export function noteUnreadableBlob(repo: TreeSource, id: string, e: unknown): void {
  if (!isBulwarkError(e) || (e.code !== 'CORRUPT' && e.code !== 'NOT_FOUND')) return;
  const loc = repo.catalog.lookupBlob(repo.rid, id);
  if (!loc) return;
  repo.catalog.markBlobDamaged(
    repo.rid,
    id,
    loc.pack,
    e.code === 'CORRUPT' ? 'damaged' : 'missing-pack',
    e.message,
  );
}

/** A folder whose listing could not be read: its path in the snapshot ('' for the top) and why. */
export interface DamagedFolder {
  path: string;
  tree: string;
  message: string;
}

/** The text that names a damaged folder for a person, with the underlying reason. */
export function damagedFolderText(path: string, e: Error): string {
  return `${path || 'the top folder of the snapshot'}: ${DAMAGED_FOLDER} (${e.message})`;
}

/**
 * Loads a tree; when its blob is damaged or gone, records that (noteUnreadableBlob) and returns the
 * damage instead of throwing. Any other failure is thrown.
 */
export async function loadTreeOrDamage(
  repo: TreeSource,
  id: string,
  signal?: AbortSignal,
): Promise<{ tree: Tree; damage?: undefined } | { tree?: undefined; damage: BulwarkError }> {
  try {
    return { tree: await repo.loadTree(id, signal) };
  } catch (e) {
    if (!isDamage(e)) throw e;
    noteUnreadableBlob(repo, id, e);
    return { damage: e };
  }
}

/**
 * Depth-first walk like walk.ts walkTree, but a folder whose tree blob is damaged is reported to
 * `onDamaged` (and recorded) and skipped; the walk goes on with the rest.
 */
export async function* walkTreeSkippingDamage(
  repo: Repository,
  treeId: string,
  prefix: string,
  onDamaged: (d: DamagedFolder) => void,
  signal?: AbortSignal,
): AsyncGenerator<{ path: string; node: TreeNode }> {
  const { tree, damage } = await loadTreeOrDamage(repo, treeId, signal);
  if (damage) {
    onDamaged({ path: prefix, tree: treeId, message: damage.message });
    return;
  }
  for (const node of tree.nodes) {
    const path = prefix ? `${prefix}/${node.name}` : node.name;
    yield { path, node };
    if (node.type === 'dir' && node.subtree)
      yield* walkTreeSkippingDamage(repo, node.subtree, path, onDamaged, signal);
  }
}
