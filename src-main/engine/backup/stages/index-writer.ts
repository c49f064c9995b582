/**
 * Index objects are written as the run goes, one per `blobsPerIndex` blobs, so a run over a million small
 * files never holds or encodes one giant index. Indexed packs stay unreferenced until the snapshot commits.
 */
import type { PackedBlob } from '../../repo/format.ts';
import type { RunFailure } from './run-failure.ts';

export interface IndexedPack {
  id: string;
  size: number;
  blobs: PackedBlob[];
}

export interface IndexTarget {
  /** writes one index object listing these packs */
  write(packs: IndexedPack[]): Promise<unknown>;
  /** packs the catalog holds that no index object lists yet (uploaded by an earlier, killed run) */
  unindexed(): { id: string; size: number }[];
  blobsOf(packId: string): PackedBlob[];
}

export class IndexWriter {
  /** packs uploaded by this run and not yet listed by an index object of this run */
  private pending: IndexedPack[] = [];
  private pendingBlobs = 0;
  private writing: Promise<void> = Promise.resolve();
  private readonly target: IndexTarget;
  private readonly blobsPerIndex: number;
  private readonly failure: RunFailure;

  constructor(target: IndexTarget, blobsPerIndex: number, failure: RunFailure) {
    this.target = target;
    this.blobsPerIndex = blobsPerIndex;
    this.failure = failure;
  }

  /** An uploaded pack: listed by the next index object, written once enough blobs wait. */
  add(pack: IndexedPack): void {
    this.pending.push(pack);
    this.pendingBlobs += pack.blobs.length;
    if (this.pendingBlobs >= this.blobsPerIndex) this.writePending();
  }

  private writePending(): void {
    const batch = this.pending.splice(0);
    this.pendingBlobs = 0;
    this.writing = this.writing
      .then(async () => {
        if (!this.failure.hasFailed) await this.target.write(batch);
      })
      .catch(this.failure.fail);
  }

  /** Waits for the index objects written so far (their failures go to the run's failure). */
  settled(): Promise<void> {
    return this.writing;
  }

  /** The last index object: this run's packs not indexed yet, plus any an earlier killed run left unindexed. */
  async finish(): Promise<void> {
    await this.writing;
    const mine = new Set(this.pending.map((p) => p.id));
    const leftovers = this.target.unindexed().filter((p) => !mine.has(p.id));
    const toIndex = [
      ...this.pending.splice(0),
      ...leftovers.map((p) => ({ id: p.id, size: p.size, blobs: this.target.blobsOf(p.id) })),
    ];
    this.pendingBlobs = 0;
    if (toIndex.length > 0) await this.target.write(toIndex);
  }
}
