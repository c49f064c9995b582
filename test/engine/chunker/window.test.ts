/** ChunkWindow: a file cut while it is read in pieces of any size gives the chunks of the whole at once. */
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  Chunker,
  chunkLengths,
  gearTableFromSeed,
  type ChunkerParams,
} from '../../../src-main/engine/chunker/fastcdc.ts';
import { ChunkWindow } from '../../../src-main/engine/chunker/window.ts';
import { isBulwarkError } from '../../../src-main/engine/errors.ts';

const SMALL: ChunkerParams = { min: 2 * 1024, avg: 8 * 1024, max: 32 * 1024 };
const GEAR = gearTableFromSeed(new Uint8Array(32).fill(3));

function bytes(length: number, label: number): Buffer {
  return createCipheriv('aes-256-ctr', Buffer.alloc(32, label), Buffer.alloc(16)).update(
    Buffer.alloc(length),
  );
}

/** Cuts `data` through `w`, each read giving at most `step` bytes (as a short read would). */
function cutThrough(w: ChunkWindow, data: Buffer, step: number): Buffer[] {
  const chunks: Buffer[] = [];
  let pos = 0;
  w.reset();
  while (!w.done) {
    for (let at = w.readAt(); at >= 0; at = w.readAt()) {
      const n = Math.min(step, w.buf.length - at, data.length - pos);
      data.copy(w.buf, at, pos, pos + n);
      pos += n;
      w.added(n);
    }
    for (let c = w.next(); c; c = w.next()) chunks.push(Buffer.from(c));
  }
  return chunks;
}

describe('ChunkWindow', () => {
  it('cuts what chunkLengths cuts, whatever the read sizes, and the pieces are the bytes', () => {
    const w = new ChunkWindow(new Chunker(SMALL, GEAR), SMALL.max + 1024);
    for (const [size, label] of [
      [300_000, 1],
      [SMALL.max * 3 + 7, 2],
      [100, 3],
    ] as const) {
      const data = bytes(size, label);
      const want = chunkLengths(data, SMALL, GEAR);
      for (const step of [1_000, 4_096, 65_536]) {
        const chunks = cutThrough(w, data, step);
        expect(chunks.map((c) => c.length)).toEqual(want);
        expect(Buffer.concat(chunks).equals(data)).toBe(true);
      }
    }
  });

  it('an empty file gives no chunk, and the window is reused from empty', () => {
    const w = new ChunkWindow(new Chunker(SMALL, GEAR), SMALL.max + 1024);
    cutThrough(w, bytes(50_000, 4), 4096);
    expect(cutThrough(w, Buffer.alloc(0), 4096)).toEqual([]);
  });

  it('refuses a buffer that cannot hold the largest chunk', () => {
    let err: unknown;
    try {
      new ChunkWindow(new Chunker(SMALL, GEAR), SMALL.max);
    } catch (e) {
      err = e;
    }
    expect(isBulwarkError(err, 'INVALID_ARGUMENT')).toBe(true);
  });
});
