import {
  constants,
  createZstdCompress,
  createZstdDecompress,
  zstdCompressSync,
  zstdDecompressSync,
} from 'node:zlib';
import { BulwarkError } from './errors.ts';

/** First byte of every blob payload before encryption. */
export const RAW = 0;
export const ZSTD = 1;

/**
 * zstd level of every blob and of the probes. Level 1, not 3: on the benchmark corpus level 3 took 25-50 %
 * more zstd time for 0.2 % less repository, on a tree of small text files 15-55 % more for 1.6 % less, and
 * the corpus's first backup was 4-9 % faster at level 1 (docs/DECISIONS.md, "Compression level").
 */
export const LEVEL = 1;
const SAMPLE = 16 * 1024;
const LEVEL_OPTS = { params: { [constants.ZSTD_c_compressionLevel]: LEVEL } };

/**
 * Returns [flag, data]: zstd when it saves at least 3 %, raw otherwise. Large chunks are probed first on
 * four 16 KiB samples (start, two middles, end): only when none of them shrinks (media,
 * encrypted data) is compression skipped without spending CPU on the whole chunk. A single sample misses
 * chunks that start random and continue with zeros (VM images).
 */
export function compressBlob(data: Uint8Array): [number, Uint8Array] {
  if (data.length < 64) return [RAW, data];
  if (data.length > 8 * SAMPLE) {
    const step = Math.floor((data.length - SAMPLE) / 3);
    let compressible = false;
    for (let i = 0; i < 4 && !compressible; i++) {
      const probe = zstdCompressSync(data.subarray(i * step, i * step + SAMPLE), LEVEL_OPTS);
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

/**
 * Node's zlib handle underneath a zstd stream: one native context that compresses (or decompresses)
 * straight into a caller's buffer. zlib's one-shot functions build a new context (several MiB for zstd)
 * and fresh output buffers on every call: per 1 MiB chunk that is megabytes of freshly faulted memory,
 * which this VM writes slowly and glibc keeps in per-thread arenas (docs/DECISIONS.md, "Reused zstd
 * contexts"). Not a public API: its shape is checked, and any surprise falls back to the one-shot calls.
 */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  reset(): void;
}
interface ZlibInternals {
  _handle?: ZlibHandle | null;
  _writeState?: unknown;
  close?(): void;
}

/**
 * A reusable native zstd context; `run` answers undefined when it cannot be used (the caller falls back).
 * Exported for its test only.
 */
export class NativeZstd {
  private stream: ZlibInternals | undefined;
  private handle: ZlibHandle | undefined;
  private state: Uint32Array | undefined;
  private readonly make: () => NodeJS.EventEmitter;

  constructor(make: () => NodeJS.EventEmitter) {
    this.make = make;
    this.open();
  }

  private open(): void {
    const stream = this.make();
    stream.on('error', () => undefined); // reported through run()'s result instead
    const s = stream as ZlibInternals;
    const h = s._handle;
    const ok =
      typeof h?.writeSync === 'function' &&
      typeof h.reset === 'function' &&
      s._writeState instanceof Uint32Array &&
      s._writeState.length >= 2;
    this.stream = ok ? s : undefined;
    this.handle = ok ? (h ?? undefined) : undefined;
    this.state = ok ? (s._writeState as Uint32Array) : undefined;
  }

  /** Feeds input[inOff, inOff+inLen) as one whole frame; returns bytes produced and input left over. */
  run(
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
  ): { produced: number; leftIn: number } | undefined {
    const { handle, state, stream } = this;
    if (!handle || !state || !stream) return undefined;
    try {
      handle.writeSync(constants.ZSTD_e_end, input, inOff, inLen, out, 0, out.length);
    } catch {
      this.handle = undefined; // internals changed under us: one-shot calls from now on
      return undefined;
    }
    // A data error closes the handle at once (another write on it would abort the process): start afresh.
    if (stream._handle !== handle) {
      this.open();
      return undefined;
    }
    const result = { produced: out.length - state[0]!, leftIn: state[1]! };
    // A frame that ended with room to spare leaves the context ready for the next one, with its level.
    // Otherwise part of it may still be inside: a new context. Not handle.reset(): in Node 24 it also puts
    // the parameters back to zstd's defaults (level 3), so once a frame did not fit the context went on at
    // level 3, whatever it was made with (pipeline-parts.test.ts checks that the level holds).
    if (state[0] === 0 || state[1] !== 0) {
      stream.close?.();
      this.open();
    }
    return result;
  }
}

/** The most a zstd frame of `n` bytes can take (ZSTD_COMPRESSBOUND), and a little more. */
function frameBound(n: number): number {
  return n + (n >> 8) + 128;
}

/**
 * compressBlob for a pipeline thread: the same decision (probes, 3 % rule) with one reused context (probes
 * and blobs share the level) and output into a reused buffer. The returned body is a view of that buffer or
 * `data` itself, valid until the next call.
 */
export class BlobCompressor {
  private readonly ctx = new NativeZstd(() => createZstdCompress(LEVEL_OPTS));
  // Room for a whole frame even of incompressible input, so a frame never fills its buffer (which would
  // cost a new context: NativeZstd.run); whether it was worth it is judged after.
  private readonly probeOut = Buffer.allocUnsafe(frameBound(SAMPLE));
  private out: Buffer;

  constructor(maxBlob: number) {
    this.out = Buffer.allocUnsafe(frameBound(maxBlob));
  }

  compress(data: Uint8Array): [number, Uint8Array] {
    if (data.length < 64) return [RAW, data];
    if (data.length > 8 * SAMPLE) {
      const step = Math.floor((data.length - SAMPLE) / 3);
      let compressible = false;
      for (let i = 0; i < 4 && !compressible; i++) {
        compressible =
          this.compressInto(data.subarray(i * step, i * step + SAMPLE), this.probeOut) < SAMPLE * 0.95;
      }
      if (!compressible) return [RAW, data];
    }
    const bound = frameBound(data.length);
    if (this.out.length < bound) this.out = Buffer.allocUnsafe(bound);
    const n = this.compressInto(data, this.out);
    return n < data.length * 0.97 ? [ZSTD, this.out.subarray(0, n)] : [RAW, data];
  }

  /** Compresses into `out`; the frame's length, or Infinity when it does not fit there. */
  private compressInto(data: Uint8Array, out: Buffer): number {
    const r = this.ctx.run(data, 0, data.length, out);
    if (r) return r.leftIn === 0 && r.produced < out.length ? r.produced : Infinity;
    const z = zstdCompressSync(data, LEVEL_OPTS);
    if (z.length >= out.length) return Infinity;
    z.copy(out);
    return z.length;
  }
}

/** decompressBlob into a reused buffer (restore threads): the result is valid until the next call. */
export class BlobDecompressor {
  private readonly ctx = new NativeZstd(() => createZstdDecompress());
  private out: Buffer;

  constructor(maxBlob: number) {
    this.out = Buffer.allocUnsafe(maxBlob + 1);
  }

  decompress(payload: Buffer, rawLength: number, what: string): Buffer {
    if (payload[0] !== ZSTD) return decompressBlob(payload, rawLength, what);
    if (this.out.length < rawLength + 1) this.out = Buffer.allocUnsafe(rawLength + 1);
    // one byte of room past rawLength, so a frame that decodes to more than the index says is caught
    const r = this.ctx.run(payload, 1, payload.length - 1, this.out.subarray(0, rawLength + 1));
    // damaged, or not what the index promised: the one-shot call gives the precise error
    if (!r || r.leftIn !== 0 || r.produced !== rawLength) return decompressBlob(payload, rawLength, what);
    return this.out.subarray(0, rawLength);
  }
}
