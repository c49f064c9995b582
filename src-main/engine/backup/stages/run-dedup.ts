/**
 * This run's view of which blobs the repository already holds. Before any file is read, tree blobs are
 * checked against the catalog; the shared dedup table (seeded with every blob the catalog knows) is built
 * only when the first file must be read: a backup where nothing changed never pays for it.
 */
import { DedupTable } from '../dedup-table.ts';

/** The blobs the repository held when the run started (the catalog). */
export interface KnownBlobs {
  count(): number;
  ids(): Iterable<Buffer>;
  has(id: string): boolean;
}

export class RunDedup {
  private table: DedupTable | undefined;
  /** tree blobs this run stores (claimed again when the table is built) */
  private readonly runTreeIds = new Set<string>();
  private readonly known: KnownBlobs;
  /** the table grew: every thread must claim in the new one from now on */
  private readonly onGrown: (buffer: SharedArrayBuffer) => void;

  constructor(known: KnownBlobs, onGrown: (buffer: SharedArrayBuffer) => void) {
    this.known = known;
    this.onGrown = onGrown;
  }

  /** Builds the shared table (once) and returns its buffer for the readers. */
  start(): SharedArrayBuffer {
    if (this.table) return this.table.buffer;
    const table = new DedupTable(DedupTable.slotsFor(this.known.count() + 16_384));
    for (const id of this.known.ids()) table.claim(id);
    for (const id of this.runTreeIds) table.claim(Buffer.from(id, 'hex'));
    this.table = table;
    return table.buffer;
  }

  /**
   * Whether this run must store the tree blob `id`: nobody holds it yet, or the only stored copy is
   * damaged (stored again, once per run).
   */
  claimTree(id: string, idBuf: Buffer, damaged: boolean): boolean {
    const known = this.table ? !this.table.claim(idBuf) : this.known.has(id) || this.runTreeIds.has(id);
    const fresh = !known || (damaged && !this.runTreeIds.has(id));
    this.growIfCrowded();
    if (fresh) this.runTreeIds.add(id);
    return fresh;
  }

  /** The shared table starts small; once crowded, a grown copy replaces it in every thread. */
  growIfCrowded(): void {
    if (!this.table?.crowded) return;
    this.table = this.table.grown();
    this.onGrown(this.table.buffer);
  }
}
