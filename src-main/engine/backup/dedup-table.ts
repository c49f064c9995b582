/**
 * A lock-free, insert-only set of 32-byte blob ids in a SharedArrayBuffer, shared by the main thread and the
 * pipeline workers. `claim(id)` returns true for exactly one caller per id: that caller stores the blob;
 * everyone else reuses it. Data never has to travel to the main thread just to be deduplicated.
 *
 * It is an accelerator, not the source of truth: when the table is too full to insert, `claim` returns true
 * (the blob is stored again, which costs space, never correctness) and the catalog keeps one location.
 * It starts small (an open-addressed table touches every page it spans) and the coordinator swaps in a
 * grown copy when it gets crowded (`grown`).
 *
 * Layout: Int32 state per slot (0 empty, 1 being written, 2 ready) followed by 32 bytes of id per slot.
 * Open addressing with linear probing, starting at the id's first 4 bytes (ids are uniformly random).
 */
const EMPTY = 0;
const WRITING = 1;
const READY = 2;
const ID = 32;

export class DedupTable {
  readonly buffer: SharedArrayBuffer;
  private readonly states: Int32Array;
  private readonly ids: Uint8Array;
  private readonly mask: number;
  private readonly limit: number;
  private readonly count: Int32Array;

  constructor(bufferOrSlots: SharedArrayBuffer | number) {
    const buffer =
      typeof bufferOrSlots === 'number'
        ? new SharedArrayBuffer(DedupTable.bytesFor(bufferOrSlots))
        : bufferOrSlots;
    const slots = (buffer.byteLength - 4) / (4 + ID);
    if (!Number.isInteger(slots) || (slots & (slots - 1)) !== 0)
      throw new RangeError('slot count must be a power of two');
    this.buffer = buffer;
    this.count = new Int32Array(buffer, 0, 1);
    this.states = new Int32Array(buffer, 4, slots);
    this.ids = new Uint8Array(buffer, 4 + 4 * slots, ID * slots);
    this.mask = slots - 1;
    this.limit = Math.floor(slots * 0.85);
  }

  static bytesFor(slots: number): number {
    return 4 + slots * (4 + ID);
  }

  /** A power of two with room for `expected` ids at a comfortable load (at least 65 536 slots, 2.3 MiB). */
  static slotsFor(expected: number): number {
    let s = 1 << 16;
    while (s < expected * 2) s *= 2;
    return s;
  }

  get size(): number {
    return Atomics.load(this.count, 0);
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /** More than 60 % full: time to grow (linear probe sequences get long past that). */
  get crowded(): boolean {
    return this.size * 5 > this.capacity * 3;
  }

  /**
   * A table `factor` times larger holding every id of this one. The caller hands the new buffer to the other
   * threads; an id claimed in the old table after this copy may be stored twice (space, never correctness).
   */
  grown(factor = 2): DedupTable {
    const next = new DedupTable(this.capacity * factor);
    for (let slot = 0; slot <= this.mask; slot++) {
      if (Atomics.load(this.states, slot) === READY)
        next.claim(this.ids.subarray(slot * ID, (slot + 1) * ID));
    }
    return next;
  }

  private start(id: Uint8Array): number {
    return ((id[0]! | (id[1]! << 8) | (id[2]! << 16) | (id[3]! << 24)) >>> 0) & this.mask;
  }

  private equals(slot: number, id: Uint8Array): boolean {
    const base = slot * ID;
    for (let i = 0; i < ID; i++) if (this.ids[base + i] !== id[i]) return false;
    return true;
  }

  private waitReady(slot: number): void {
    // Another thread is copying 32 bytes; this resolves in nanoseconds.
    while (Atomics.load(this.states, slot) === WRITING) Atomics.wait(this.states, slot, WRITING, 1);
  }

  has(id: Uint8Array): boolean {
    for (let slot = this.start(id), n = 0; n <= this.mask; slot = (slot + 1) & this.mask, n++) {
      const st = Atomics.load(this.states, slot);
      if (st === EMPTY) return false;
      if (st === WRITING) this.waitReady(slot);
      if (this.equals(slot, id)) return true;
    }
    return false;
  }

  /** true: the caller is the first to see this id and must store the blob; false: it is known already. */
  claim(id: Uint8Array): boolean {
    for (let slot = this.start(id), n = 0; n <= this.mask; slot = (slot + 1) & this.mask, n++) {
      let st = Atomics.load(this.states, slot);
      if (st === EMPTY) {
        if (Atomics.load(this.count, 0) >= this.limit) return true; // full: store a duplicate, stay correct
        st = Atomics.compareExchange(this.states, slot, EMPTY, WRITING);
        if (st === EMPTY) {
          this.ids.set(id, slot * ID);
          Atomics.add(this.count, 0, 1);
          Atomics.store(this.states, slot, READY);
          Atomics.notify(this.states, slot);
          return true;
        }
      }
      if (st === WRITING) this.waitReady(slot);
      if (this.equals(slot, id)) return false;
    }
    return true;
  }
}
