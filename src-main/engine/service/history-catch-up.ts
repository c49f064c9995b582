/**
 * The file history (find, versions) takes in each snapshot the service's backups make, after the backup's
 * job is done: the backup does not spend its own time on it (on a first backup of 80 000 small files it was
 * ~4 s of ~20 s), and the app's find then usually finds the index up to date. A find asked meanwhile waits
 * for it (history/sync.ts runs one sync at a time per catalog) and then takes in whatever is left.
 */
import { isBulwarkError } from '../errors.ts';
import { historyBehind, indexSnapshot } from '../history/sync.ts';
import type { SnapshotManifest } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';

export class HistoryCatchUp {
  private readonly pending = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly onError: (message: string) => void;

  /** `onError`: a snapshot the index could not take in (the next find takes it in). */
  constructor(onError: (message: string) => void) {
    this.onError = onError;
  }

  /**
   * Takes `snap` of `repo` into the index, in the background: not before the current turn of the event
   * loop is over (the comparison itself is synchronous), so the backup's job ends first.
   */
  after(repo: Repository, snap: SnapshotManifest): void {
    if (this.stopping.signal.aborted) return; // the next find takes it in
    const work = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => indexSnapshot(repo, snap, this.stopping.signal))
      .catch((e: unknown) => {
        if (isBulwarkError(e, 'CANCELED') && this.stopping.signal.aborted) return; // stopped: find catches up
        this.onError(historyBehind(snap, e));
      })
      .finally(() => this.pending.delete(work));
    this.pending.add(work);
  }

  /** Resolves once every snapshot handed in so far is taken in (or failed). */
  async whenIdle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** No more catching up: what is under way stops before its next snapshot, and is waited for. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.whenIdle();
  }
}
