import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { BulwarkError } from './errors.ts';

/** First byte of every blob payload before encryption. */
export const RAW = 0;
export const ZSTD = 1;

const LEVEL = 3;
const SAMPLE = 16 * 1024;
const PROBE_OPTS = { params: { [constants.ZSTD_c_compressionLevel]: 1 } };
const LEVEL_OPTS = { params: { [constants.ZSTD_c_compressionLevel]: LEVEL } };

/**
 * Returns [flag, data]: zstd when it saves at least 3 %, raw otherwise. Large chunks are probed first on
 * four 16 KiB samples (start, two middles, end) at level 1: only when none of them shrinks (media,
 * encrypted data) is compression skipped without spending CPU on the whole chunk. A single sample misses
 * chunks that start random and continue with zeros (VM images).
 */
export function compressBlob(data: Uint8Array): [number, Uint8Array] {
  if (data.length < 64) return [RAW, data];
  if (data.length > 8 * SAMPLE) {
    const step = Math.floor((data.length - SAMPLE) / 3);
    let compressible = false;
    for (let i = 0; i < 4 && !compressible; i++) {
      const probe = zstdCompressSync(data.subarray(i * step, i * step + SAMPLE), PROBE_OPTS);
      compressible = probe.length < SAMPLE * 0.95;
    }
    if (!compressible) return [RAW, data];
  }
  const z = zstdCompressSync(data, LEVEL_OPTS);
  return z.length < data.length * 0.97 ? [ZSTD, z] : [RAW, data];
}

export function decompressBlob(payload: Buffer, rawLength: number, what: string): Buffer {
  const flag = payload[0];
  const body = payload.subarray(1);
  if (flag === RAW) return body;
  if (flag === ZSTD) {
    try {
      const out = zstdDecompressSync(body, { maxOutputLength: Math.max(rawLength, 1) });
      return out;
    } catch (e) {
      throw new BulwarkError('CORRUPT', `${what}: cannot decompress`, { cause: e });
    }
  }
  throw new BulwarkError('CORRUPT', `${what}: unknown compression flag ${String(flag)}`);
}
