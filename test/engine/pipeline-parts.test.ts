import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import {
  constants as zlibConstants,
  createZstdCompress,
  zstdCompressSync,
  zstdDecompressSync,
} from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DedupTable } from '../../src-main/engine/backup/dedup-table.ts';
import { isInside } from '../../src-main/engine/backup/filter.ts';
import {
  BlobCompressor,
  BlobDecompressor,
  compressBlob,
  decompressBlob,
  LEVEL,
  NativeZstd,
  RAW,
  ZSTD,
} from '../../src-main/engine/compress.ts';
import { open, seal, sealParts } from '../../src-main/engine/crypto/seal.ts';
import { BulwarkError } from '../../src-main/engine/errors.ts';
import { parseTrailer, PackWriter } from '../../src-main/engine/repo/pack.ts';
import { tempDir } from './helpers/repo.ts';

const MiB = 1024 * 1024;

/** Text-like data that compresses, incompressible data, and data that starts random and ends in zeros. */
function samples(): Buffer[] {
  const words = Buffer.from('invoice patient ledger tax receipt quarterly balance ');
  const text = Buffer.alloc(MiB + 12345);
  for (let i = 0; i < text.length; i++) text[i] = words[(i * 7 + (i >> 9)) % words.length]!;
  const mixed = Buffer.concat([randomBytes(200 * 1024), Buffer.alloc(600 * 1024)]);
  return [text, randomBytes(MiB), mixed, Buffer.from('tiny'), randomBytes(100), Buffer.alloc(3 * MiB)];
}

describe('reused zstd contexts (BlobCompressor / BlobDecompressor)', () => {
  it('make the same raw-or-compressed decision as compressBlob, and both decoders read every result', () => {
    const c = new BlobCompressor(MiB);
    const d = new BlobDecompressor(MiB);
    for (const data of [...samples(), ...samples()]) {
      const [flag, body] = c.compress(data);
      const [oneShotFlag] = compressBlob(data);
      expect(flag).toBe(oneShotFlag);
      if (flag === RAW) expect(Buffer.from(body).equals(data)).toBe(true);
      else expect(body.length).toBeLessThan(data.length * 0.97);
      const payload = Buffer.concat([Buffer.from([flag]), body]);
      expect(decompressBlob(payload, data.length, 'test').equals(data)).toBe(true);
      expect(d.decompress(payload, data.length, 'test').equals(data)).toBe(true);
    }
  });

  it('a reused context keeps its level over many frames, also after one that did not fit its buffer', () => {
    const text = samples()[0]!.subarray(0, 200_000);
    const level = (l: number) => ({ params: { [zlibConstants.ZSTD_c_compressionLevel]: l } });
    for (const l of [1, 19]) {
      const want = zstdCompressSync(text, level(l));
      const ctx = new NativeZstd(() => createZstdCompress(level(l)));
      const out = Buffer.alloc(text.length * 2);
      const frame = () => {
        const r = ctx.run(text, 0, text.length, out);
        return r && Buffer.from(out.subarray(0, r.produced));
      };
      expect(frame()?.equals(want)).toBe(true);
      expect(frame()?.equals(want)).toBe(true); // Node's reset() would have made this one level 3
      expect(ctx.run(randomBytes(4096), 0, 4096, Buffer.alloc(100))?.produced).toBe(100); // did not fit
      expect(frame()?.equals(want)).toBe(true);
      expect(zstdDecompressSync(frame()!).equals(text)).toBe(true);
    }
    expect(zstdCompressSync(text, level(1)).equals(zstdCompressSync(text, level(19)))).toBe(false);
  });

  it('blobs and probes are compressed at level 1 (the measured choice: docs/DECISIONS.md)', () => {
    const text = samples()[0]!;
    const level = (l: number) => ({ params: { [zlibConstants.ZSTD_c_compressionLevel]: l } });
    expect(LEVEL).toBe(1);
    const [flag, body] = new BlobCompressor(2 * MiB).compress(text);
    expect(flag).toBe(ZSTD);
    expect(Buffer.from(body).equals(zstdCompressSync(text, level(1)))).toBe(true);
    expect(Buffer.from(body).equals(zstdCompressSync(text, level(3)))).toBe(false);
    expect(Buffer.from(compressBlob(text)[1]).equals(zstdCompressSync(text, level(1)))).toBe(true);
  });

  it('a damaged or mislabelled frame is CORRUPT, and the next blob still decodes', () => {
    const d = new BlobDecompressor(MiB);
    const data = samples()[0]!;
    const good = Buffer.concat([Buffer.from([ZSTD]), compressBlob(data)[1]]);
    const damaged = Buffer.from(good);
    for (let i = 8; i < 40; i++) damaged[i]! ^= 0x5a;
    expect(() => d.decompress(damaged, data.length, 'blob x')).toThrowError(BulwarkError);
    // a frame that decodes to more than the index promised
    expect(() => d.decompress(good, data.length - 1, 'blob y')).toThrowError(/blob y/);
    expect(d.decompress(good, data.length, 'blob z').equals(data)).toBe(true);
  });
});

describe('sealParts', () => {
  it('its pieces, concatenated, are a sealed blob that opens; nonces never repeat', () => {
    const key = randomBytes(32);
    const aad = randomBytes(32);
    const parts = [Buffer.from([1]), randomBytes(5000)];
    const nonces = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const pieces = sealParts(key, parts, aad);
      const sealed = Buffer.concat(pieces);
      expect(open(key, sealed, aad, 'test').equals(Buffer.concat(parts))).toBe(true);
      nonces.add(sealed.subarray(0, 12).toString('hex'));
    }
    expect(nonces.size).toBe(600); // across more than two refills of the nonce pool
    expect(() => open(key, seal(key, parts, aad), randomBytes(32), 'test')).toThrowError(/authentication/);
  });
});

describe('PackWriter', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('writes blobs given as pieces at the offsets its trailer records; the MD5 only when asked', () => {
    const dir = tempDir('pack');
    dirs.push(dir);
    const key = randomBytes(32);
    for (const md5 of [true, false]) {
      const w = new PackWriter(dir, { md5 });
      const blobs = [randomBytes(70_000), randomBytes(10), randomBytes(300_000)];
      const ids = blobs.map(() => randomBytes(32));
      blobs.forEach((b, i) =>
        w.addPieces(ids[i]!.toString('hex'), 'data', sealParts(key, [b], ids[i]), b.length),
      );
      const p = w.finish(key);
      const file = readFileSync(p.path);
      expect(file.length).toBe(p.size);
      if (md5) expect(p.md5).toBe(createHash('md5').update(file).digest('base64'));
      else expect(p.md5).toBeUndefined();
      const tlen = file.readUInt32LE(file.length - 4);
      const entries = parseTrailer(key, file.subarray(file.length - 4 - tlen, file.length - 4), p.id);
      expect(entries.map((e) => e.id)).toEqual(ids.map((i) => i.toString('hex')));
      entries.forEach((e, i) => {
        const sealed = file.subarray(e.offset, e.offset + e.length);
        expect(open(key, sealed, ids[i], 'blob').equals(blobs[i]!)).toBe(true);
        expect(e.rawLength).toBe(blobs[i]!.length);
      });
    }
  });

  it('writes small blobs a few at a time, each at the offset its trailer records', () => {
    const dir = tempDir('pack');
    dirs.push(dir);
    const key = randomBytes(32);
    const w = new PackWriter(dir);
    // 500 small blobs (batches by piece count), then large ones (by bytes), then small again
    const blobs = [
      ...Array.from({ length: 500 }, (_, i) => randomBytes(i % 97)),
      ...Array.from({ length: 5 }, () => randomBytes(200_000)),
      ...Array.from({ length: 40 }, () => randomBytes(1000)),
    ];
    const ids = blobs.map(() => randomBytes(32));
    blobs.forEach((b, i) => {
      w.addPieces(ids[i]!.toString('hex'), 'data', sealParts(key, [b], ids[i]), b.length);
      if (i === 10) {
        // a few blobs in, nothing written yet: they wait for the next few blobs' write
        expect(statSync(w.path).size).toBe(0);
        expect(w.size).toBeGreaterThan(0);
      }
    });
    const p = w.finish(key);
    const file = readFileSync(p.path);
    expect(file.length).toBe(p.size);
    expect(p.md5).toBe(createHash('md5').update(file).digest('base64'));
    const tlen = file.readUInt32LE(file.length - 4);
    const entries = parseTrailer(key, file.subarray(file.length - 4 - tlen, file.length - 4), p.id);
    expect(entries).toHaveLength(blobs.length);
    entries.forEach((e, i) => {
      expect(e.id).toBe(ids[i]!.toString('hex'));
      expect(open(key, file.subarray(e.offset, e.offset + e.length), ids[i], 'blob').equals(blobs[i]!)).toBe(
        true,
      );
    });

    // an aborted pack leaves no file, whatever it held
    const a = new PackWriter(dir);
    a.add(ids[0]!.toString('hex'), 'data', seal(key, [blobs[0]!], ids[0]), blobs[0]!.length);
    a.abort();
    expect(existsSync(a.path)).toBe(false);
  });
});

describe('DedupTable', () => {
  it('claims each id once, and a grown copy knows every id claimed before', () => {
    const t = new DedupTable(DedupTable.slotsFor(0));
    expect(t.capacity).toBe(1 << 16);
    const ids = Array.from({ length: 45_000 }, () => randomBytes(32));
    for (const id of ids.slice(0, 39_000)) expect(t.claim(id)).toBe(true);
    expect(t.crowded).toBe(false); // 59.5 %
    for (const id of ids.slice(39_000, 40_000)) t.claim(id);
    expect(t.crowded).toBe(true);
    const g = t.grown();
    expect(g.capacity).toBe(2 << 16);
    expect(g.size).toBe(40_000);
    expect(g.crowded).toBe(false);
    for (const id of ids.slice(0, 40_000)) expect(g.claim(id)).toBe(false);
    for (const id of ids.slice(40_000)) expect(g.claim(id)).toBe(true);
    expect(g.has(ids[44_999]!)).toBe(true);
  });

  it('when full, claims say "store it" (a duplicate costs space, never data)', () => {
    const t = new DedupTable(DedupTable.slotsFor(0));
    const limit = Math.floor(t.capacity * 0.85);
    for (let i = 0; i < limit; i++) t.claim(randomBytes(32));
    const extra = randomBytes(32);
    expect(t.claim(extra)).toBe(true);
    expect(t.claim(extra)).toBe(true); // not recorded: stored again rather than lost
  });
});

describe('isInside', () => {
  it('treats names that start with ".." as inside; only ".." and "../x" leave', () => {
    expect(isInside('/src', '/src')).toBe(true);
    expect(isInside('/src', '/src/..config')).toBe(true);
    expect(isInside('/src', '/src/.../x')).toBe(true);
    expect(isInside('/src', '/other')).toBe(false);
    expect(isInside('/src/a', '/src')).toBe(false);
    expect(isInside('/src', '/srcx')).toBe(false);
  });
});
