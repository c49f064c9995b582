import { closeSync, openSync, unlinkSync, writeSync, writevSync } from 'node:fs';
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { join } from 'node:path';
import { BulwarkError } from '../errors.ts';
import { open, seal } from '../crypto/seal.ts';
import type { BlobStore, ByteRange } from '../storage/types.ts';
import { objectNames, type BlobKind, type PackedBlob } from './format.ts';

const TRAILER_AAD = Buffer.from('bulwark-pack-trailer-v1');
/**
 * Blobs are written a few at a time: one writev per blob was a system call per small file (80 000 small
 * files: ~0.5 s of each reader's time in writev). Pieces wait until this many bytes or pieces are held.
 */
const WRITE_BATCH_BYTES = 256 << 10;
const WRITE_BATCH_PIECES = 64;
const ENTRY_BYTES = 32 + 1 + 4 + 4 + 4;

export interface FinishedPack {
  id: string;
  path: string;
  size: number;
  /** base64 MD5 of the whole pack, for the Content-MD5 of a locked S3 PUT; absent when not asked for */
  md5?: string;
  blobs: PackedBlob[];
}

export interface PackWriterOptions {
  /**
   * Compute the pack's MD5 while writing (default true): S3 needs it for every locked PUT, and computing
   * it here saves reading the file again. A folder target does not: it costs ~6 % of a backup's CPU.
   */
  md5?: boolean;
}

/**
 * Builds one pack in a local temp file, blob by blob, so a 64 MiB pack never sits in memory (this VM creates
 * large buffers slowly: docs/DECISIONS.md, Pipeline). The file is not fsynced here: a store that keeps it (a folder target
 * adopting it by hard link) syncs it before linking, and an upload does not need it on disk.
 */
export class PackWriter {
  readonly id = randomBytes(16).toString('hex');
  readonly path: string;
  private fd: number;
  private md5: Hash | undefined;
  private offset = 0;
  private readonly blobs: PackedBlob[] = [];
  /** pieces added and not written yet (WRITE_BATCH_BYTES), and their bytes */
  private held: Uint8Array[] = [];
  private heldBytes = 0;

  constructor(tmpDir: string, opts: PackWriterOptions = {}) {
    this.path = join(tmpDir, `pack-${this.id}`);
    this.fd = openSync(this.path, 'wx', 0o600);
    this.md5 = opts.md5 === false ? undefined : createHash('md5');
  }

  get size(): number {
    return this.offset;
  }

  get count(): number {
    return this.blobs.length;
  }

  /** Adds one sealed blob (kept, not copied, until written: see addPieces). */
  add(id: string, kind: BlobKind, sealed: Uint8Array, rawLength: number): void {
    this.addPieces(id, kind, [sealed], rawLength);
  }

  /**
   * Adds one sealed blob given as pieces (see sealParts), kept as they are (not copied) until they are
   * written with the next few blobs' in one writev: the caller must not change them afterwards.
   */
  addPieces(id: string, kind: BlobKind, pieces: readonly Uint8Array[], rawLength: number): void {
    const start = this.offset;
    this.hold(pieces);
    this.blobs.push({ id, kind, offset: start, length: this.offset - start, rawLength });
    if (this.heldBytes >= WRITE_BATCH_BYTES || this.held.length >= WRITE_BATCH_PIECES) this.flush();
  }

  /** Takes pieces at the end of the pack (written by the next flush). */
  private hold(pieces: readonly Uint8Array[]): void {
    for (const p of pieces) {
      this.held.push(p);
      this.heldBytes += p.length;
      this.offset += p.length;
      this.md5?.update(p);
    }
  }

  /** Writes the pieces held. */
  private flush(): void {
    if (this.held.length === 0) return;
    const pieces = this.held;
    const total = this.heldBytes;
    this.held = [];
    this.heldBytes = 0;
    let done = pieces.length === 1 ? writeSync(this.fd, pieces[0]!) : writevSync(this.fd, pieces);
    // a short write (rare: signals, full disks report ENOSPC instead) finishes piece by piece
    for (let i = 0, at = 0; done < total && i < pieces.length; at += pieces[i]!.length, i++) {
      const p = pieces[i]!;
      let off = Math.max(0, done - at);
      while (off < p.length) {
        const n = writeSync(this.fd, p, off, p.length - off);
        off += n;
        done += n;
      }
    }
  }

  finish(encKey: Buffer): FinishedPack {
    const trailer = Buffer.allocUnsafe(this.blobs.length * ENTRY_BYTES);
    let o = 0;
    for (const b of this.blobs) {
      trailer.write(b.id, o, 32, 'hex');
      trailer[o + 32] = b.kind === 'tree' ? 1 : 0;
      trailer.writeUInt32LE(b.offset, o + 33);
      trailer.writeUInt32LE(b.length, o + 37);
      trailer.writeUInt32LE(b.rawLength, o + 41);
      o += ENTRY_BYTES;
    }
    const sealedTrailer = seal(encKey, [trailer], TRAILER_AAD);
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32LE(sealedTrailer.length, 0);
    this.hold([sealedTrailer, len]);
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
    return {
      id: this.id,
      path: this.path,
      size: this.offset,
      ...(this.md5 ? { md5: this.md5.digest('base64') } : {}),
      blobs: this.blobs,
    };
  }

  abort(): void {
    this.held = [];
    this.heldBytes = 0;
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}

export function parseTrailer(encKey: Buffer, sealedTrailer: Buffer, packId: string): PackedBlob[] {
  const t = open(encKey, sealedTrailer, TRAILER_AAD, `pack ${packId} trailer`);
  if (t.length % ENTRY_BYTES !== 0) throw new BulwarkError('CORRUPT', `pack ${packId}: malformed trailer`);
  const out: PackedBlob[] = [];
  for (let o = 0; o < t.length; o += ENTRY_BYTES) {
    out.push({
      id: t.toString('hex', o, o + 32),
      kind: t[o + 32] === 1 ? 'tree' : 'data',
      offset: t.readUInt32LE(o + 33),
      length: t.readUInt32LE(o + 37),
      rawLength: t.readUInt32LE(o + 41),
    });
  }
  return out;
}

/** Reads a pack's blob list from its own trailer (used to adopt packs no index lists, and by repair). */
export async function readPackTrailer(
  store: BlobStore,
  encKey: Buffer,
  packId: string,
  size: number,
): Promise<PackedBlob[]> {
  const name = objectNames.pack(packId);
  return parseTrailerFrom((range) => store.get(name, range), size, encKey, packId);
}

/** The same, reading through `read` (one version of the pack). CORRUPT when it does not authenticate. */
export async function parseTrailerFrom(
  read: (range: ByteRange) => Promise<Buffer>,
  size: number,
  encKey: Buffer,
  packId: string,
): Promise<PackedBlob[]> {
  if (size < 4) throw new BulwarkError('CORRUPT', `pack ${packId}: truncated`);
  const tail = await read({ offset: size - 4, length: 4 });
  const tlen = tail.readUInt32LE(0);
  if (tlen + 4 > size) throw new BulwarkError('CORRUPT', `pack ${packId}: trailer length out of range`);
  const sealed = await read({ offset: size - 4 - tlen, length: tlen });
  return parseTrailer(encKey, sealed, packId);
}
