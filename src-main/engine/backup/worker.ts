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
import { BlobCompressor } from '../compress.ts';
import { keyedHashHex } from '../crypto/blob-id.ts';
import { sealParts } from '../crypto/seal.ts';
import { PackWriter } from '../repo/pack.ts';
import { gcEvery } from '../util/thread-gc.ts';
import { DedupTable } from './dedup-table.ts';
import type { FileJob, FileResult, FromWorker, ScanFilter, ToWorker, WorkerInit } from './protocol.ts';
import { compileFilter, isInside } from './filter.ts';
import { listDir } from './entry.ts';
import { BoundedFileReader, openScannedFile } from './open-file.ts';
import { FLOW_LIMIT_ENTRIES, FLOW_LIMIT_FILES, FLOW_QUEUED_ENTRIES, FLOW_QUEUED_FILES } from './flow.ts';

const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');
const init = workerData as WorkerInit;
const encKey = Buffer.from(init.encKey);
const idKey = Buffer.from(init.idKey);
let dedup = new DedupTable(init.dedup);
const chunker = new Chunker(init.chunker, gearTableFromSeed(init.chunkerSeed));
const FLAG = [Buffer.from([0]), Buffer.from([1])] as const;

const post = (m: FromWorker): void => port.postMessage(m);

// Compression writes into a reused buffer; each chunk's ciphertext is the garbage left (see thread-gc.ts).
const garbage = gcEvery(4 << 20);

// ---- reader ----------------------------------------------------------------------------------------

let readBuf: Buffer | undefined;
let compressor: BlobCompressor | undefined; // readers only: the scanner never compresses
let pack: PackWriter | undefined;
/** New content of the file being read, before and after compression (the ransomware entropy check). */
let freshRaw = 0;
let freshStored = 0;

function storeChunk(chunk: Buffer): string {
  const hex = keyedHashHex(idKey, chunk);
  const id = Buffer.from(hex, 'hex');
  if (dedup.claim(id)) {
    compressor ??= new BlobCompressor(init.chunker.max);
    const [flag, body] = compressor.compress(chunk);
    freshRaw += chunk.length;
    freshStored += body.length;
    pack ??= new PackWriter(init.tmpDir, { md5: init.packMd5 });
    pack.addPieces(hex, 'data', sealParts(encKey, [FLAG[flag as 0 | 1], body], id), chunk.length);
    if (pack.size >= init.packTarget) finishPack();
    garbage(chunk.length);
  }
  return hex;
}

function finishPack(): void {
  if (!pack) return;
  const p = pack;
  pack = undefined;
  if (p.count === 0) {
    p.abort();
    return;
  }
  post({ type: 'pack', pack: p.finish(encKey) });
}

function sameVersion(a: BigIntStats, b: BigIntStats): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ino === b.ino;
}

/**
 * Reads and stores one file; retries once when it changes underneath, then flags it. The path is opened
 * only if it is still the regular file the scanner saw (open-file.ts), and read only up to its size at
 * open plus what arrived meanwhile, so a growing file or anything swapped in cannot keep the reader forever.
 */
function readFile(job: FileJob): FileResult {
  // room for the largest chunk plus 1 MiB, so reads stay large while a chunk waits for its cut
  readBuf ??= Buffer.allocUnsafe(init.chunker.max + (1 << 20));
  const buf = readBuf;
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
    freshRaw = freshStored = 0;
    try {
      const before = opened.stat;
      const reader = new BoundedFileReader(fd, before.size);
      const content: string[] = [];
      let filled = 0;
      let start = 0;
      let eof = false;
      for (;;) {
        if (!eof) {
          if (start > 0) {
            buf.copyWithin(0, start, filled);
            filled -= start;
            start = 0;
          }
          while (filled < buf.length) {
            const n = reader.read(buf, filled, buf.length - filled);
            if (n === 0) {
              eof = true;
              break;
            }
            filled += n;
          }
        }
        for (;;) {
          const avail = filled - start;
          if (avail === 0) break;
          const n = chunker.nextCut(buf, start, avail, eof);
          if (n === 0) break;
          content.push(storeChunk(buf.subarray(start, start + n)));
          start += n;
        }
        if (eof && start === filled) break;
      }
      const total = reader.total;
      const after = fstatSync(fd, { bigint: true });
      const changed = !sameVersion(before, after) || BigInt(total) !== after.size;
      if (changed && attempt === 0) continue;
      return {
        seq: job.seq,
        content,
        bytesRead: total,
        size: total,
        mtimeNs: after.mtimeNs.toString(),
        changedDuringRead: changed,
        freshRaw,
        freshStored,
      };
    } catch (e) {
      return unread((e as Error).message);
    } finally {
      closeSync(fd);
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
    while (Atomics.load(flow, FLOW_QUEUED_ENTRIES) > FLOW_LIMIT_ENTRIES)
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

port.on('message', (m: ToWorker) => {
  try {
    switch (m.type) {
      case 'files':
        post({ type: 'files-done', results: m.jobs.map(readFile) });
        break;
      case 'scan':
        scan(m.roots, m.flow, m.filter);
        break;
      case 'dedup':
        dedup = new DedupTable(m.buffer);
        break;
      case 'flush':
        finishPack();
        post({ type: 'flushed' });
        break;
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    post({ type: 'fatal', message: err.message, ...(err.code ? { code: err.code } : {}) });
  }
});
