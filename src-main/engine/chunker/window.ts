/**
 * A file's bytes cut into chunks as they are read: one buffer, filled by the caller's reads, cut by the
 * chunker, and what is left after the last cut moved to the front before the next read. The reads stay
 * the caller's (a backup's reader reads synchronously, a restore's "same content?" check asynchronously);
 * the buffer's bookkeeping is here, once.
 */
import { BulwarkError } from '../errors.ts';
import type { Chunker } from './fastcdc.ts';

export class ChunkWindow {
  /** where reads go: room for the largest chunk plus some, so reads stay large while a chunk waits for its cut */
  readonly buf: Buffer;
  private readonly chunker: Chunker;
  private filled = 0;
  private start = 0;
  private eof = false;

  /** `bytes`: by default room for the largest chunk plus 1 MiB, so reads stay large while a chunk waits */
  constructor(chunker: Chunker, bytes = chunker.params.max + (1 << 20)) {
    if (bytes <= chunker.params.max)
      throw new BulwarkError('INVALID_ARGUMENT', 'a chunk window must hold more than the largest chunk');
    this.chunker = chunker;
    this.buf = Buffer.allocUnsafe(bytes);
  }

  /** Empties the window for the next file. */
  reset(): void {
    this.filled = this.start = 0;
    this.eof = false;
  }

  /**
   * Where the next read goes (the uncut rest moved to the front first), or -1 when no read is wanted: the
   * buffer is full, or the end was read. Read into buf[at, buf.length) and report it with `added`.
   */
  readAt(): number {
    if (this.eof) return -1;
    if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.filled);
      this.filled -= this.start;
      this.start = 0;
    }
    return this.filled < this.buf.length ? this.filled : -1;
  }

  /** `n` bytes were read at `readAt()`; 0 is the end of the file. */
  added(n: number): void {
    if (n === 0) this.eof = true;
    else this.filled += n;
  }

  /** The next whole chunk (a view of `buf`, valid until the next read), or undefined when more must be read first. */
  next(): Buffer | undefined {
    const avail = this.filled - this.start;
    if (avail === 0) return undefined;
    const n = this.chunker.nextCut(this.buf, this.start, avail, this.eof);
    if (n === 0) return undefined;
    const chunk = this.buf.subarray(this.start, this.start + n);
    this.start += n;
    return chunk;
  }

  /** Every byte up to the end of the file was cut. */
  get done(): boolean {
    return this.eof && this.start === this.filled;
  }
}
