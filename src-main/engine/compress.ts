import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { BulwarkError } from './errors.ts';

/** First byte of every blob payload before encryption. */
export const RAW = 0;
export const ZSTD = 1;

const LEVEL = 3;
const SAMPLE = 32 * 1024;

/**
 * Returns [flag, data]: zstd when it saves at least 3 %, raw otherwise. Large chunks are probed first on a
 * 32 KiB sample at level 1, so incompressible media costs almost no CPU (zstd is the pipeline's bottleneck).
 */
export function compressBlob(data: Uint8Array): [number, Uint8Array] {
  if (data.length < 64) return [RAW, data];
  if (data.length > 4 * SAMPLE) {
    const probe = zstdCompressSync(data.subarray(0, SAMPLE), {
      params: { [constants.ZSTD_c_compressionLevel]: 1 },
    });
    if (probe.length > SAMPLE * 0.95) return [RAW, data];
  }
  const z = zstdCompressSync(data, { params: { [constants.ZSTD_c_compressionLevel]: LEVEL } });
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
