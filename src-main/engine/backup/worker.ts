/**
 * Pipeline worker thread. Two jobs, one per worker instance:
 * - scanner: walks the source with synchronous readdir/lstat (about 3x faster than fs.promises here) and
 *   streams one message per directory to the coordinator;
 * - reader: reads changed files with synchronous reads into one reused buffer, chunks, hashes, claims new
 *   blob ids in the shared dedup table, compresses, encrypts, and appends to its own pack file. Only
 *   metadata (blob ids, finished pack descriptions) goes back to the main thread, never file data.
 */
import { closeSync, fstatSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { Chunker, gearTableFromSeed } from '../chunker/fastcdc.ts';
import { ChunkWindow } from '../chunker/window.ts';
import { BlobCompressor } from '../compress.ts';
import { keyedHashHex } from '../crypto/blob-id.ts';
import { sealParts } from '../crypto/seal.ts';
import { PackWriter } from '../repo/pack.ts';
import { gcEvery } from '../util/thread-gc.ts';
import { DedupTable } from './dedup-table.ts';
import type {
  FileJob,
  FileResult,
  FromWorker,
  ReaderInit,
  ScanFilter,
  ToWorker,
  WorkerInit,
} from './protocol.ts';
import { compileFilter, isInside } from './filter.ts';
import { listDir } from './entry.ts';
import { BoundedFileReader, openScannedFile } from './open-file.ts';
import {
  FLOW_ENTRIES_LIMIT,
  FLOW_LIMIT_ENTRIES,
  FLOW_LIMIT_FILES,
  FLOW_QUEUED_ENTRIES,
  FLOW_QUEUED_FILES,
} from './flow.ts';

const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');
const init = workerData as WorkerInit;

const post = (m: FromWorker): void => port.postMessage(m);

// ---- reader ----------------------------------------------------------------------------------------

const FLAG = [Buffer.from([0]), Buffer.from([1])] as const;

/**
 * Storing a chunk failed (its pack file: a full temp disk, an I/O error), not reading the file: the run
 * stops (a 'fatal' message). Reported as the file's own error, the run would go on with the chunk's id
 * claimed in the shared dedup table and not in any pack: every later file holding the same content would
 * name a blob the repository never got, and the pack file's offsets could be off after a short write.
 */
class StoreFailure extends Error {
  readonly code: string | undefined;
  constructor(cause: unknown) {
    super((cause as Error).message, { cause });
    this.code = (cause as NodeJS.ErrnoException).code;
  }
}

function sameVersion(a: BigIntStats, b: BigIntStats): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ino === b.ino;
}

/** A reader's state: its keys, its chunker, the pack it appends to. */
class Reader {
  private readonly init: ReaderInit;
  private readonly encKey: Buffer;
  private readonly idKey: Buffer;
  private readonly chunker: Chunker;
  dedup: DedupTable;
  private window: ChunkWindow | undefined;
  private compressor: BlobCompressor | undefined;
  private pack: PackWriter | undefined;
  /** New content of the file being read, before and after compression (the ransomware entropy check). */
  private freshRaw = 0;
  private freshStored = 0;
  /** Compression writes into a reused buffer; each chunk's ciphertext is the garbage left (see thread-gc.ts). */
  private readonly garbage = gcEvery(4 << 20);

  constructor(init: ReaderInit) {
    this.init = init;
    this.encKey = Buffer.from(init.encKey);
    this.idKey = Buffer.from(init.idKey);
    this.dedup = new DedupTable(init.dedup);
    this.chunker = new Chunker(init.chunker, gearTableFromSeed(init.chunkerSeed));
  }

  private storeChunk(chunk: Buffer): string {
    const hex = keyedHashHex(this.idKey, chunk);
    const id = Buffer.from(hex, 'hex');
    if (this.dedup.claim(id)) {
      try {
        this.compressor ??= new BlobCompressor(this.init.chunker.max);
        const [flag, body] = this.compressor.compress(chunk);
        this.freshRaw += chunk.length;
        this.freshStored += body.length;
        this.pack ??= new PackWriter(this.init.tmpDir, { md5: this.init.packMd5 });
        this.pack.addPieces(
          hex,
          'data',
          sealParts(this.encKey, [FLAG[flag as 0 | 1], body], id),
          chunk.length,
        );
        if (this.pack.size >= this.init.packTarget) this.finishPack();
      } catch (e) {
        throw new StoreFailure(e);
      }
      this.garbage(chunk.length);
    }
    return hex;
  }

  finishPack(): void {
    if (!this.pack) return;
    const p = this.pack;
    this.pack = undefined;
    if (p.count === 0) {
      p.abort();
      return;
    }
    post({ type: 'pack', pack: p.finish(this.encKey) });
  }

  /**
   * Reads and stores one file; retries once when it changes underneath, then flags it. The path is opened
   * only if it is still the regular file the scanner saw (open-file.ts), and read only up to its size at
   * open plus what arrived meanwhile, so a growing file or anything swapped in cannot keep the reader forever.
   */
  readFile(job: FileJob): FileResult {
    const w = (this.window ??= new ChunkWindow(this.chunker));
    const unread = (message: string): FileResult => ({
      seq: job.seq,
      bytesRead: 0,
      size: job.size,
      mtimeNs: job.mtimeNs,
      changedDuringRead: false,
      error: message,
    });
    for (let attempt = 0; ; attempt++) {
      const opened = openScannedFile(job.path, job);
      if (!opened.ok) return unread(opened.message);
      const fd = opened.fd;
      this.freshRaw = this.freshStored = 0;
      try {
        const before = opened.stat;
        const reader = new BoundedFileReader(fd, before.size);
        const content: string[] = [];
        w.reset();
        while (!w.done) {
          for (let at = w.readAt(); at >= 0; at = w.readAt())
            w.added(reader.read(w.buf, at, w.buf.length - at));
          for (let chunk = w.next(); chunk; chunk = w.next()) content.push(this.storeChunk(chunk));
        }
        const total = reader.total;
        const after = reader.statAtEnd ?? fstatSync(fd, { bigint: true });
        const changed = !sameVersion(before, after) || BigInt(total) !== after.size;
        if (changed && attempt === 0) continue;
        return {
          seq: job.seq,
          content,
          bytesRead: total,
          size: total,
          mtimeNs: after.mtimeNs.toString(),
          changedDuringRead: changed,
          freshRaw: this.freshRaw,
          freshStored: this.freshStored,
        };
      } catch (e) {
        if (e instanceof StoreFailure) throw e; // the run's failure, not this file's
        return unread((e as Error).message);
      } finally {
        closeSync(fd);
      }
    }
  }
}

// ---- scanner ---------------------------------------------------------------------------------------

function scan(
  roots: { path: string; dirId: number }[],
  flowBuf: SharedArrayBuffer,
  filterSpec?: ScanFilter,
): void {
  const flow = new Int32Array(flowBuf);
  const filter = filterSpec
    ? compileFilter(filterSpec.roots, filterSpec.include, filterSpec.exclude)
    : undefined;
  const skip = filterSpec?.skipPaths ?? [];
  /** higher while the repository is being unlocked (flow.ts) */
  const entriesLimit = (): number => Atomics.load(flow, FLOW_ENTRIES_LIMIT) || FLOW_LIMIT_ENTRIES;
  let nextId = 1;
  const stack: { path: string; dirId: number; parentId: number; name: string }[] = roots
    .map((r) => ({ path: r.path, dirId: r.dirId, parentId: 0, name: '' }))
    .reverse();
  while (stack.length > 0) {
    const d = stack.pop()!;
    // Backpressure: stop walking while readers are far behind (queued file reads) or the coordinator is
    // (folder entries reported and not processed yet).
    while (Atomics.load(flow, FLOW_QUEUED_FILES) > FLOW_LIMIT_FILES)
      Atomics.wait(flow, FLOW_QUEUED_FILES, Atomics.load(flow, FLOW_QUEUED_FILES), 50);
    while (Atomics.load(flow, FLOW_QUEUED_ENTRIES) > entriesLimit())
      Atomics.wait(flow, FLOW_QUEUED_ENTRIES, Atomics.load(flow, FLOW_QUEUED_ENTRIES), 50);
    // Names are read as bytes and decoded with surrogate escape (util/fs-names.ts): a name that is not
    // UTF-8 is recorded exactly; whatever cannot be recorded is reported, never dropped (entry.ts).
    const listing = listDir(d.path, (p, type) => {
      if (filter?.excluded(p) || skip.some((s) => isInside(s, p))) return false;
      return !(type === 'file' && filter && !filter.included(p));
    });
    const { entries, error, skipped } = listing;
    const subdirs: { path: string; dirId: number; parentId: number; name: string }[] = [];
    for (const e of entries)
      if (e.type === 'dir')
        subdirs.push({ path: join(d.path, e.name), dirId: nextId++, parentId: d.dirId, name: e.name });
    Atomics.add(flow, FLOW_QUEUED_ENTRIES, entries.length + 1);
    post({
      type: 'dir',
      dirId: d.dirId,
      parentId: d.parentId,
      name: d.name,
      path: d.path,
      entries,
      ...(error !== undefined ? { error } : {}),
      ...(skipped.length > 0 ? { skipped } : {}),
    });
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
  post({ type: 'scan-done' });
}

/** this thread's job: a reader stores content; the scanner has none of a reader's keys or state */
const thisReader = init.role === 'reader' ? new Reader(init) : undefined;

function readerOnly(what: string): Reader {
  if (!thisReader) throw new Error(`the scanner was sent ${what}, a reader's job`);
  return thisReader;
}

port.on('message', (m: ToWorker) => {
  try {
    switch (m.type) {
      case 'files': {
        const r = readerOnly('files to read');
        post({ type: 'files-done', results: m.jobs.map((j) => r.readFile(j)) });
        break;
      }
      case 'scan':
        scan(m.roots, m.flow, m.filter);
        break;
      case 'dedup':
        readerOnly('a dedup table').dedup = new DedupTable(m.buffer);
        break;
      case 'flush':
        readerOnly('a flush').finishPack();
        post({ type: 'flushed' });
        break;
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    post({ type: 'fatal', message: err.message, ...(err.code ? { code: err.code } : {}) });
  }
});
