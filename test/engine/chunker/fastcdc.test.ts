import { createCipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  Chunker,
  DEFAULT_CHUNKER,
  chunkLengths,
  gearTableFromSeed,
  type ChunkerParams,
} from '../../../src-main/engine/chunker/fastcdc.ts';
import { isBulwarkError } from '../../../src-main/engine/errors.ts';

const SMALL: ChunkerParams = { min: 2 * 1024, avg: 8 * 1024, max: 32 * 1024 };
const MiB = 1024 * 1024;

/** Deterministic pseudo-random bytes (AES-256-CTR keystream), so failures reproduce. */
function randomBytes(length: number, label: number): Uint8Array {
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, label), Buffer.alloc(16));
  return new Uint8Array(cipher.update(Buffer.alloc(length)));
}

function seed(fill: number): Uint8Array {
  return new Uint8Array(32).fill(fill);
}

const GEAR = gearTableFromSeed(seed(1));

function cutOffsets(lengths: number[]): number[] {
  const offsets: number[] = [];
  let pos = 0;
  for (const len of lengths) offsets.push((pos += len));
  return offsets;
}

function chunkHashes(data: Uint8Array, lengths: number[]): string[] {
  const hashes: string[] = [];
  let pos = 0;
  for (const len of lengths) {
    hashes.push(
      createHash('sha256')
        .update(data.subarray(pos, pos + len))
        .digest('hex'),
    );
    pos += len;
  }
  return hashes;
}

function expectChunkInvariants(data: Uint8Array, lengths: number[], params: ChunkerParams): void {
  expect(lengths.reduce((a, b) => a + b, 0)).toBe(data.length);
  lengths.forEach((len, i) => {
    if (i < lengths.length - 1) {
      expect(len).toBeGreaterThanOrEqual(params.min);
      expect(len).toBeLessThanOrEqual(params.max);
    } else {
      expect(len).toBeGreaterThan(0);
      expect(len).toBeLessThanOrEqual(params.max);
    }
  });
}

/**
 * Simulates a streaming reader: a fixed window buffer, reads of varying sizes appended after the
 * unconsumed tail, nextCut called until it answers 0 ("need more data"), then the tail moves to the
 * front and more is read.
 */
function streamCuts(
  source: Uint8Array,
  chunker: Chunker,
  windowSize: number,
  readSize: (n: number) => number,
): number[] {
  const window = new Uint8Array(windowSize);
  const lengths: number[] = [];
  let srcPos = 0;
  let start = 0; // chunk start inside the window
  let filled = 0; // bytes of the window holding data
  let reads = 0;
  for (;;) {
    const eof = srcPos === source.length;
    const available = filled - start;
    if (eof && available === 0) break;
    const len = chunker.nextCut(window, start, available, eof);
    if (len > 0) {
      lengths.push(len);
      start += len;
      continue;
    }
    if (eof) throw new Error('nextCut returned 0 at eof with data left');
    // Need more data: keep the unconsumed tail, refill behind it.
    window.copyWithin(0, start, filled);
    filled -= start;
    start = 0;
    if (filled === windowSize) throw new Error('window full but nextCut still needs more data');
    const n = Math.min(readSize(reads++), windowSize - filled, source.length - srcPos);
    window.set(source.subarray(srcPos, srcPos + n), filled);
    filled += n;
    srcPos += n;
  }
  return lengths;
}

describe('gearTableFromSeed', () => {
  it('is deterministic and seed-dependent', () => {
    const a = gearTableFromSeed(seed(7));
    const b = gearTableFromSeed(seed(7));
    const c = gearTableFromSeed(seed(8));
    expect(a).toBeInstanceOf(Uint32Array);
    expect(a.length).toBe(256);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(new Set(a).size).toBeGreaterThan(250); // random-looking, not a degenerate table
  });

  it('matches the AES-256-CTR keystream (pinned: the table is part of the repository format)', () => {
    // openssl enc -aes-256-ctr -K 000102..1f -iv 0 over zero bytes starts f29000b6 2a499fd0 a9f39a6a dd2e7780
    const g = gearTableFromSeed(new Uint8Array(32).map((_, i) => i));
    expect(Array.from(g.subarray(0, 4))).toEqual([0xb60090f2, 0xd09f492a, 0x6a9af3a9, 0x80772edd]);
  });

  it('rejects seeds that are not 32 bytes', () => {
    for (const len of [0, 16, 31, 33, 64]) {
      let caught: unknown;
      try {
        gearTableFromSeed(new Uint8Array(len));
      } catch (e) {
        caught = e;
      }
      expect(isBulwarkError(caught, 'INVALID_ARGUMENT'), `seed of ${len} bytes`).toBe(true);
    }
  });
});

describe('Chunker parameters', () => {
  it('rejects invalid parameters and gear tables', () => {
    const bad: ChunkerParams[] = [
      { min: 2048, avg: 6000, max: 32768 }, // avg not a power of two
      { min: 8192, avg: 8192, max: 32768 }, // min == avg
      { min: 2048, avg: 8192, max: 8192 }, // max == avg
      { min: 0, avg: 8192, max: 32768 },
      { min: 2048.5, avg: 8192, max: 32768 },
    ];
    for (const p of bad) {
      expect(() => new Chunker(p, GEAR), JSON.stringify(p)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
    expect(() => new Chunker(SMALL, new Uint32Array(255))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => new Chunker(DEFAULT_CHUNKER, GEAR)).not.toThrow();
  });
});

describe('Chunker.nextCut', () => {
  const chunker = new Chunker(SMALL, GEAR);
  const data = randomBytes(MiB, 3);

  it('asks for more data (0) until it has seen the boundary, then returns the same cut', () => {
    const cut = chunker.nextCut(data, 0, data.length, false);
    expect(cut).toBeGreaterThan(SMALL.min);
    expect(cut).toBeLessThan(SMALL.max);
    expect(chunker.nextCut(data, 0, cut, false)).toBe(cut);
    expect(chunker.nextCut(data, 0, cut - 1, false)).toBe(0);
    expect(chunker.nextCut(data, 0, SMALL.min, false)).toBe(0);
    // The same bytes at another offset of another buffer give the same cut.
    const shifted = new Uint8Array(data.length + 123);
    shifted.set(data, 123);
    expect(chunker.nextCut(shifted, 123, data.length, false)).toBe(cut);
  });

  it('returns what is left at eof, even below min', () => {
    expect(chunker.nextCut(data, 0, 100, true)).toBe(100);
    expect(chunker.nextCut(data, 0, SMALL.min, true)).toBe(SMALL.min);
    const cut = chunker.nextCut(data, 0, data.length, false);
    expect(chunker.nextCut(data, 0, cut - 1, true)).toBe(cut - 1);
    expect(chunker.nextCut(data, 0, data.length, true)).toBe(cut); // a boundary still wins at eof
  });

  it('cuts at max when no boundary occurs, and only needs max bytes to say so', () => {
    // A gear table whose hash keeps its top bit set never matches a mask.
    const never = new Chunker(SMALL, new Uint32Array(256).fill(0x80000000));
    expect(never.nextCut(data, 0, data.length, false)).toBe(SMALL.max);
    expect(never.nextCut(data, 0, SMALL.max, false)).toBe(SMALL.max);
    expect(never.nextCut(data, 0, data.length, true)).toBe(SMALL.max);
    expect(never.nextCut(data, 0, SMALL.max - 1, false)).toBe(0);
    expect(never.nextCut(data, 0, SMALL.max - 1, true)).toBe(SMALL.max - 1);
  });

  it('never cuts inside the first min bytes, and does not look at them', () => {
    // A zero gear table makes the hash 0 at the first hashed byte: the earliest possible cut.
    const always = new Chunker(SMALL, new Uint32Array(256));
    expect(always.nextCut(data, 0, data.length, false)).toBe(SMALL.min + 1);
    // Changing bytes inside the first min bytes of a chunk does not move its cut.
    const cut = chunker.nextCut(data, 0, data.length, false);
    const altered = data.slice();
    altered.fill(0xaa, 0, SMALL.min);
    expect(chunker.nextCut(altered, 0, altered.length, false)).toBe(cut);
  });

  it('rejects a window outside the buffer', () => {
    expect(() => chunker.nextCut(data, data.length - 10, 11, true)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});

describe('chunkLengths', () => {
  it('is deterministic (pinned cut points for a fixed input and seed)', () => {
    const gear = gearTableFromSeed(new Uint8Array(32).map((_, i) => i));
    const data = Buffer.from(randomBytes(MiB, 0x42));
    const a = chunkLengths(data, SMALL, gear);
    const b = chunkLengths(
      new Uint8Array(data),
      SMALL,
      gearTableFromSeed(new Uint8Array(32).map((_, i) => i)),
    );
    expect(a).toEqual(b);
    expect(a.length).toBe(115);
    expect(a.slice(0, 12)).toEqual([
      9446, 8613, 8273, 11514, 9040, 10049, 12698, 9934, 12291, 6186, 2787, 18846,
    ]);
  });

  it('handles empty and tiny inputs', () => {
    expect(chunkLengths(new Uint8Array(0), SMALL, GEAR)).toEqual([]);
    expect(chunkLengths(new Uint8Array(1), SMALL, GEAR)).toEqual([1]);
    expect(chunkLengths(randomBytes(SMALL.min, 5), SMALL, GEAR)).toEqual([SMALL.min]);
  });

  it('small params on 64 MiB of random data: bounds, length, average within 35%, normalized sizes', () => {
    const data = randomBytes(64 * MiB, 11);
    const lengths = chunkLengths(data, SMALL, GEAR);
    expectChunkInvariants(data, lengths, SMALL);
    const mean = data.length / lengths.length;
    expect(mean).toBeGreaterThan(SMALL.avg * 0.65);
    expect(mean).toBeLessThan(SMALL.avg * 1.35);
    // Normalized chunking concentrates sizes around avg (plain exponential cut points give ~60% here).
    const near = lengths.filter((l) => l >= SMALL.avg / 2 && l <= SMALL.avg * 2).length;
    expect(near / lengths.length).toBeGreaterThan(0.8);
    // Random data almost never runs to max.
    expect(lengths.filter((l) => l === SMALL.max).length).toBeLessThan(lengths.length / 100);
  });

  it('DEFAULT_CHUNKER on 64 MiB of random data: bounds, total length, average within 35%', () => {
    const data = randomBytes(64 * MiB, 12);
    const lengths = chunkLengths(data, DEFAULT_CHUNKER, GEAR);
    expectChunkInvariants(data, lengths, DEFAULT_CHUNKER);
    const mean = data.length / lengths.length;
    expect(mean).toBeGreaterThan(DEFAULT_CHUNKER.avg * 0.65);
    expect(mean).toBeLessThan(DEFAULT_CHUNKER.avg * 1.35);
  });

  it('different gear seeds give different cut points', () => {
    const data = randomBytes(8 * MiB, 13);
    const a = cutOffsets(chunkLengths(data, SMALL, gearTableFromSeed(seed(1))));
    const b = cutOffsets(chunkLengths(data, SMALL, gearTableFromSeed(seed(2))));
    expect(a).not.toEqual(b);
    const inA = new Set(a.slice(0, -1));
    const shared = b.slice(0, -1).filter((o) => inA.has(o)).length;
    expect(shared).toBeLessThan(b.length / 20);
  });
});

describe('boundary-shift resistance', () => {
  for (const [name, params] of [
    ['small params', SMALL],
    ['DEFAULT_CHUNKER', DEFAULT_CHUNKER],
  ] as const) {
    it(`inserting 4 KiB in the middle of 32 MiB changes at most 3 chunks (${name})`, () => {
      const data = randomBytes(32 * MiB, 21);
      const insert = randomBytes(4096, 22);
      const mid = 16 * MiB + 12345;
      const edited = new Uint8Array(data.length + insert.length);
      edited.set(data.subarray(0, mid), 0);
      edited.set(insert, mid);
      edited.set(data.subarray(mid), mid + insert.length);

      const before = chunkHashes(data, chunkLengths(data, params, GEAR));
      const after = chunkHashes(edited, chunkLengths(edited, params, GEAR));
      const beforeSet = new Set(before);
      const afterSet = new Set(after);
      const added = after.filter((h) => !beforeSet.has(h));
      const removed = before.filter((h) => !afterSet.has(h));
      expect(added.length).toBeGreaterThanOrEqual(1); // the edit is somewhere
      expect(added.length).toBeLessThanOrEqual(3);
      expect(removed.length).toBeLessThanOrEqual(3);
    });
  }
});

describe('streaming', () => {
  it('a 1 MiB window with refills of varying size yields exactly the cuts of chunkLengths', () => {
    const data = randomBytes(24 * MiB + 777, 31);
    const sizes = randomBytes(4096, 32);
    // Reads between 1 byte and ~384 KiB, deterministic.
    const readSize = (n: number): number => 1 + ((sizes[n % 4096]! << 8) | sizes[(n * 7 + 1) % 4096]!) * 6;
    const streamed = streamCuts(data, new Chunker(SMALL, GEAR), MiB, readSize);
    expect(streamed).toEqual(chunkLengths(data, SMALL, GEAR));
  });

  it('tiny reads (many "need more data" answers) give the same cuts', () => {
    const data = randomBytes(2 * MiB + 5, 33);
    const streamed = streamCuts(data, new Chunker(SMALL, GEAR), MiB, (n) => 1 + ((n * 997) % 1500));
    expect(streamed).toEqual(chunkLengths(data, SMALL, GEAR));
  });

  it('DEFAULT_CHUNKER with a window of exactly max bytes gives the same cuts', () => {
    const data = randomBytes(32 * MiB + 1, 34);
    const streamed = streamCuts(data, new Chunker(DEFAULT_CHUNKER, GEAR), DEFAULT_CHUNKER.max, () => MiB);
    const whole = chunkLengths(data, DEFAULT_CHUNKER, GEAR);
    expect(streamed).toEqual(whole);
    expect(whole.length).toBeGreaterThan(10);
  });
});
