/**
 * The parent snapshot as this run sees it: its folder listings (so unchanged files are not read) and which
 * of its blob lists may still be reused.
 */
import { isBulwarkError } from '../../errors.ts';
import { noteUnreadableBlob } from '../../ops/damage.ts';
import type { TreeNode } from '../../repo/format.ts';
import type { Repository } from '../../repo/repository.ts';
import type { ScannedEntry } from '../protocol.ts';
import { sameFile } from './tree-nodes.ts';

export class ParentTrees {
  /**
   * Blobs verify found damaged (or whose pack is gone) are never reused: a file whose blob list holds one is
   * read again, a folder whose listing is one is scanned as new, and the dedup table leaves them out, so
   * they are stored again (the new copy takes the damaged one's place in the catalog).
   */
  readonly unusable: Set<string>;
  /** After packs were pruned, the parent's blob lists may name blobs that are gone: each one is checked. */
  private readonly checkReuse: boolean;
  private readonly repo: Repository;
  private readonly signal: AbortSignal | undefined;

  constructor(repo: Repository, checkReuse: boolean, signal: AbortSignal | undefined) {
    this.repo = repo;
    this.checkReuse = checkReuse;
    this.signal = signal;
    this.unusable = repo.catalog.unusableBlobs(repo.rid);
  }

  /** The parent's node for this entry when it is the same file and its content can be reused as it is. */
  reusable(prev: TreeNode | undefined, e: ScannedEntry): prev is TreeNode & { content: string[] } {
    return sameFile(prev, e) && prev.content.every((b) => this.usableBlob(b));
  }

  /** Whether the parent's listing `id` may stand for a folder in which nothing changed. */
  reusableTree(id: string): boolean {
    return this.usableBlob(id);
  }

  /** A blob of the parent that this run may point to again: not damaged, and not pruned away. */
  private usableBlob(id: string): boolean {
    return !this.unusable.has(id) && (!this.checkReuse || this.repo.catalog.hasBlob(this.repo.rid, id));
  }

  /** The parent's listing of a folder by name, or undefined when there is none to use. */
  async folder(subtree: string | undefined, path: string): Promise<Map<string, TreeNode> | undefined> {
    if (!subtree || this.unusable.has(subtree)) return undefined; // damaged: the folder is scanned as new
    try {
      const t = await this.repo.loadTree(subtree, this.signal);
      return new Map(t.nodes.map((n) => [n.name, n]));
    } catch (e) {
      if (isBulwarkError(e, 'CANCELED')) throw e;
      // No usable parent: the folder's files are read again (and still deduplicated). A damaged listing is
      // recorded and stored again by this run (TreeSaver), like one verify found.
      noteUnreadableBlob(this.repo, subtree, e);
      if (this.repo.catalog.unusableBlobs(this.repo.rid).has(subtree)) this.unusable.add(subtree);
      this.repo.warnings.push(
        `${path || 'the top folder'}: its listing in the previous snapshot could not be read, its files were read again: ${e instanceof Error ? e.message : String(e)}`,
      );
      return undefined;
    }
  }
}
