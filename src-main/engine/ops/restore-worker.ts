/**
 * Restore writer thread: decrypts, decompresses and verifies blobs read with synchronous positional reads
 * from local pack files, and writes files with synchronous writes (the fast path on this kind of machine,
 * measured: docs/DECISIONS.md, Pipeline). Paths arrive already checked by the main thread to lie inside the target, and every folder
 * on them to be one no other user can change (restore.ts, othersCanChange): only the last component can
 * hold something planted, and it is never followed.
 *
 * A file is written under a temporary name in its folder and renamed to its own name only when it is
 * complete and its mode and times are set: a full disk, a damaged blob or a killed process never leaves a
 * truncated file under the real name (nor removes the file that was there before). Runs of zeros are left
 * as holes, so a sparse file (a VM image, a database) does not grow to its full size on disk.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  ftruncateSync,
  futimesSync,
  linkSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { BlobDecompressor } from '../compress.ts';
import { keyedHashHex } from '../crypto/blob-id.ts';
import { open } from '../crypto/seal.ts';
import { BulwarkError } from '../errors.ts';
import { encodeFsName, fsErrorText, fsPath, hasEscapedBytes } from '../util/fs-names.ts';
import { gcEvery } from '../util/thread-gc.ts';
import { decideTaking, takeFreeName, takeNameBeside, type Taking } from './restore-place.ts';
import {
  NO_SPACE_CODES,
  noSpaceMessage,
  type BlobRef,
  type FileName,
  type FileOutcome,
  type FileTask,
  type FromRestoreWorker,
  type RestoreWorkerInit,
  type ToRestoreWorker,
} from './restore-protocol.ts';
import { utimeArg } from './times.ts';

const port = parentPort;
if (!port) throw new Error('restore-worker.ts must run in a worker thread');
const init = workerData as RestoreWorkerInit;
const encKey = Buffer.from(init.encKey);
const idKey = Buffer.from(init.idKey);
const cancelFlag = new Int32Array(init.cancel);

/** Throws CANCELED once the main thread asked to stop (the caller drops the temporary file). */
function checkCanceled(): void {
  if (Atomics.load(cancelFlag, 0) !== 0) throw new BulwarkError('CANCELED', 'the restore was canceled');
}

/** A large file reports its progress every this many bytes (the ETA of a restore of a few big files). */
const PROGRESS_STEP = 4 << 20;

const packFds = new Map<string, number>();
function packFd(path: string): number {
  let fd = packFds.get(path);
  if (fd === undefined) {
    if (packFds.size > 64) {
      for (const f of packFds.values()) closeSync(f);
      packFds.clear();
    }
    fd = openSync(path, 'r');
    packFds.set(path, fd);
  }
  return fd;
}

// ---- reading blobs: one read per span of a pack ---------------------------------------------------------

/**
 * The bytes of a pack read last: [start, end) of the file at `path`, in readBuf. Small files have small blobs
 * lying side by side in a pack (a backup packs a folder's files in order), so one positional read covers
 * the blobs of many files of a batch instead of one read per blob.
 */
const SPAN_BYTES = 4 << 20;
/** A gap of at most this many bytes between two blobs of a batch is read through rather than skipped. */
const SPAN_GAP = 64 << 10;
let readBuf = Buffer.allocUnsafe(SPAN_BYTES);
const span = { path: '', start: 0, end: 0 };
/** The blobs of the batch being written, in order, and where each is in that list (to read ahead). */
let batchRefs: BlobRef[] = [];
let batchIndex = new Map<BlobRef, number>();

/**
 * Reads into readBuf a span of the pack holding `ref`, starting at it and taking in the next blobs of the
 * batch while they lie further on in the same pack, close together, within SPAN_BYTES.
 */
function readSpan(ref: BlobRef): void {
  let end = ref.offset + ref.length;
  const at = batchIndex.get(ref);
  if (at !== undefined) {
    for (let j = at + 1; j < batchRefs.length; j++) {
      const next = batchRefs[j]!;
      if (next.packPath !== ref.packPath) break;
      const nextEnd = next.offset + next.length;
      if (next.offset >= ref.offset && nextEnd <= end) continue; // inside already (the same blob again)
      if (next.offset < end || next.offset - end > SPAN_GAP || nextEnd - ref.offset > SPAN_BYTES) break;
      end = nextEnd;
    }
  }
  const want = end - ref.offset;
  if (readBuf.length < want) readBuf = Buffer.allocUnsafe(want);
  const fd = packFd(ref.packPath);
  let got = 0;
  while (got < want) {
    const n = readSync(fd, readBuf, got, want - got, ref.offset + got);
    if (n === 0) break;
    got += n;
  }
  span.path = ref.packPath;
  span.start = ref.offset;
  span.end = ref.offset + got;
  // only the blob asked for must be whole; a later one cut short fails when it is asked for
  if (got < ref.length)
    throw new BulwarkError('CORRUPT', `pack ${ref.packPath} is shorter than its index says`);
}

// Decompression reuses one buffer; each blob's decrypted copy is the garbage left (see thread-gc.ts).
const decompressor = new BlobDecompressor(4 << 20);
const garbage = gcEvery(4 << 20);

/** Blob ids already read, verified and found to be all zeros: skipped without reading (sparse files). */
const zeroBlobs = new Set<string>();

function readBlob(ref: BlobRef): Buffer {
  if (ref.packPath !== span.path || ref.offset < span.start || ref.offset + ref.length > span.end)
    readSpan(ref);
  const from = ref.offset - span.start;
  const idBuf = Buffer.from(ref.id, 'hex');
  const what = `blob ${ref.id.slice(0, 12)}`;
  const plain = decompressor.decompress(
    open(encKey, readBuf.subarray(from, from + ref.length), idBuf, what),
    ref.rawLength,
    what,
  );
  garbage(ref.length);
  if (plain.length !== ref.rawLength || keyedHashHex(idKey, plain) !== ref.id) {
    throw new BulwarkError('CORRUPT', `${what}: content does not match its id`);
  }
  return plain;
}

// ---- holes ------------------------------------------------------------------------------------------

/** Zeros are skipped in aligned pieces of this size (a file system allocates in blocks; 64 KiB spans any). */
const HOLE = 64 << 10;
const ZEROS = Buffer.alloc(HOLE);
const isZero = (b: Buffer, start: number, end: number): boolean =>
  b.compare(ZEROS, 0, end - start, start, end) === 0; // memcmp: stops at the first byte that is not 0

// tests only: a full disk after this many bytes (RestoreOptions.testNoSpaceAfter)
let written = 0;
function writeAll(fd: number, data: Buffer, start: number, end: number, pos: number): void {
  if (init.testNoSpaceAfter !== undefined && written + (end - start) > init.testNoSpaceAfter)
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      errno: -28,
      syscall: 'write',
    });
  let off = start;
  while (off < end) off += writeSync(fd, data, off, end - off, pos + off - start);
  written += end - start;
}

/**
 * Writes `data` at file offset `pos`, leaving holes: nothing at all when the chunk is all zeros, else
 * every aligned 64 KiB piece of zeros is skipped. Returns the end of what was written (pos when nothing).
 */
function writeSparse(fd: number, data: Buffer, pos: number): number {
  // One pass: which aligned pieces are zeros (most data differs from zero in its first bytes).
  const pieces: [number, number, boolean][] = [];
  let allZero = true;
  for (let i = 0; i < data.length;) {
    const next = Math.min(data.length, Math.floor((pos + i) / HOLE + 1) * HOLE - pos);
    const zero = isZero(data, i, next);
    allZero &&= zero;
    // only a whole aligned piece becomes a hole; the pieces cut by the chunk's ends are written
    pieces.push([i, next, zero && next - i === HOLE]);
    i = next;
  }
  if (allZero) return pos;
  let run = -1;
  let end = pos;
  for (const [a, , hole] of pieces) {
    if (!hole && run < 0) run = a;
    if (hole && run >= 0) {
      writeAll(fd, data, run, a, pos + run);
      end = pos + a;
      run = -1;
    }
  }
  if (run >= 0) {
    writeAll(fd, data, run, data.length, pos + run);
    end = pos + data.length;
  }
  return end;
}

// ---- temporary names ---------------------------------------------------------------------------------

const NAME_MAX = 255;
const TAG = randomBytes(4).toString('hex');
let counter = 0;

/** `.<name>.bulwark-<random>` next to `path` (only `.bulwark-<random>` where the name is too long). */
function tempPath(path: string): string {
  const name = basename(path);
  const tag = `.bulwark-${TAG}-${(counter++).toString(36)}`;
  const long = `.${name}${tag}`;
  const bytes = hasEscapedBytes(long) ? encodeFsName(long).length : Buffer.byteLength(long);
  return join(dirname(path), bytes <= NAME_MAX ? long : tag);
}

const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/** Creates a new temporary file next to `path` (never follows or reuses whatever is there). */
function createTemp(path: string): { fd: number; tmp: string } {
  for (let attempt = 0; ; attempt++) {
    const tmp = tempPath(path);
    try {
      return { fd: openSync(fsPath(tmp), TEMP_FLAGS, 0o600), tmp };
    } catch (e) {
      // taken (a leftover, or planted in a folder others may add to): another name
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 16) throw e;
    }
  }
}

/** Removes a temporary file after a failure; what cannot be removed is added to the error. */
function dropTemp(tmp: string, e: unknown): never {
  try {
    unlinkSync(fsPath(tmp));
  } catch (u) {
    throw new RestoreFailure(
      e,
      `; its unfinished copy ${basename(tmp)} could not be removed (${fsErrorText(u)}): delete it by hand`,
    );
  }
  throw e;
}

/** A failure with a note added to its message (the code of the first error is kept). */
class RestoreFailure extends Error {
  readonly code: string | undefined;
  constructor(cause: unknown, note: string) {
    super(`${describe(cause)}${note}`);
    this.code = (cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

/** Renames a finished temporary file over its name; a folder in the way is refused (the caller drops `tmp`). */
function renameOver(tmp: string, path: string): void {
  try {
    renameSync(fsPath(tmp), fsPath(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST')
      throw new BulwarkError(
        'ALREADY_EXISTS',
        'a folder is at this name (left as it is): the file was not restored',
      );
    throw e;
  }
}

/** What taking a name came to, as the outcome says it (seq added by the caller). */
type Taken = Omit<FileOutcome, 'seq'>;

/**
 * Gives the finished temporary file `tmp` its name as `taking` says (restore-place.ts): replaces what was
 * there, takes a free name (deciding again if the name was taken meanwhile), a name beside it, or drops
 * the file. On any failure the temporary file is removed.
 */
function commit(tmp: string, t: FileTask, to: FileName, taking: Taking): Taken {
  let how = taking;
  const changed = (): Taken => (how.changed ? { changed: true } : {});
  try {
    for (let attempt = 0; attempt < 4; attempt++) {
      switch (how.how) {
        case 'replace':
          renameOver(tmp, to.path);
          return changed();
        case 'beside':
          return { keptAt: takeNameBeside(tmp, to.path, to.place?.label ?? 'restored'), ...changed() };
        case 'skip':
          unlinkSync(fsPath(tmp));
          return { skipped: true, changed: true };
        case 'create':
          if (takeFreeName(tmp, to.path)) return changed();
          // something took the name after it was looked at: decide again on what is there now
          if (!to.place) throw new BulwarkError('INTERNAL', 'a free name was expected without a plan');
          how = decideTaking(to.path, to.place, t.mtimeNs);
      }
    }
    throw new BulwarkError(
      'ALREADY_EXISTS',
      'the name kept changing while the file was restored: not restored',
    );
  } catch (e) {
    return dropTemp(tmp, e);
  }
}

// ---- files --------------------------------------------------------------------------------------------

/**
 * Small files in a folder this restore made (0700: no other user puts a name there) are written under their
 * own name: a temporary name costs a link and an unlink per file, a tenth of a writer's time on a tree of
 * small files. A failure removes the file instead (dropTemp), so a full disk or a cancel still leaves no
 * half-written file under a real name. Only small ones: a program of the same user that saves a file at
 * that name while it is written would mix its bytes with ours, and a small file is written in one call
 * (a large one goes through a temporary name, so what another program saved meanwhile is never replaced).
 */
const DIRECT_MAX = 1 << 20;

/**
 * This process's umask, read once from /proc/self/status (Linux); undefined elsewhere, where every file
 * gets its mode through its descriptor. Not process.umask(): reading it that way sets it to 0 and back,
 * and a file another thread creates in between would get no umask at all.
 */
const UMASK = ((): number | undefined => {
  try {
    const m = /^Umask:\s+([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? parseInt(m[1]!, 8) : undefined;
  } catch {
    return undefined; // no /proc (not Linux): the mode is set through the descriptor as always
  }
})();

/**
 * Whether a file created with `mode` gets exactly `mode` (only permission bits, none of them taken by the
 * umask): a file written under its own name in a folder of this run is then created with its mode, and
 * needs no fchmod (a fifth of a writer's system calls on a tree of small files). Nobody else can reach it
 * meanwhile: its folder is this run's, 0700 until the end.
 */
function createdExactly(mode: number): boolean {
  return UMASK !== undefined && (mode & 0o7777) === (mode & 0o777) && (mode & UMASK) === 0;
}

/**
 * Opens `path` itself for writing (see DIRECT_MAX), created with `createMode`; undefined when the name is
 * taken (two names that differ only in case, on a file system that ignores case): the temporary name and
 * commit() decide as for any other taken name.
 */
function openFresh(path: string, createMode: number): number | undefined {
  try {
    return openSync(fsPath(path), TEMP_FLAGS, createMode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw e;
  }
}

/** Writes the content of `t` to `to.path` (through a temporary name, taken as `to.place` says). */
function writeFile(t: FileTask, to: FileName): Taken {
  checkCanceled();
  const taking: Taking = to.place
    ? decideTaking(to.path, to.place, t.mtimeNs, to.fresh)
    : { how: 'replace', changed: false };
  // decided before a byte is written: what the policy leaves alone is not read either
  if (taking.how === 'skip') return { skipped: true, changed: true };
  // created with its mode when the umask leaves it whole: no fchmod below
  const exactMode = createdExactly(t.mode);
  const freshFd =
    to.fresh === true && t.size <= DIRECT_MAX && (!to.place || (taking.how === 'create' && !taking.changed))
      ? openFresh(to.path, exactMode ? t.mode & 0o777 : 0o600)
      : undefined;
  const { fd, tmp } = freshFd !== undefined ? { fd: freshFd, tmp: to.path } : createTemp(to.path);
  let fdOpen = true;
  try {
    let pos = 0;
    let end = 0;
    let reported = 0;
    for (const ref of t.blobs) {
      checkCanceled();
      if (zeroBlobs.has(ref.id)) {
        pos += ref.rawLength;
        continue;
      }
      const data = readBlob(ref);
      const wrote = writeSparse(fd, data, pos);
      if (wrote === pos && data.length > 0 && zeroBlobs.size < 1024) zeroBlobs.add(ref.id);
      if (wrote > pos) end = wrote;
      pos += data.length;
      if (pos - reported >= PROGRESS_STEP) {
        reported = pos;
        port!.postMessage({ type: 'progress', seq: to.seq, bytes: pos } satisfies FromRestoreWorker);
      }
    }
    if (end < pos) ftruncateSync(fd, pos); // a hole at the end: the size comes from here
    // Mode (setuid/setgid already cleared by restore.ts) and times through the descriptor, not the path.
    if (freshFd === undefined || !exactMode) fchmodSync(fd, t.mode & 0o7777);
    const time = utimeArg(t.mtimeNs);
    futimesSync(fd, time, time);
    fdOpen = false;
    closeSync(fd); // a network file system may report a failed write only here
  } catch (e) {
    if (fdOpen) {
      try {
        closeSync(fd);
      } catch {
        // The error above is what gets reported; the copy this descriptor wrote is removed next.
      }
    }
    dropTemp(tmp, e);
  }
  if (freshFd !== undefined) return {}; // written under its own name: nothing left to take
  return commit(tmp, t, to, taking);
}

/** Gives the file at `existing` one more name, taken as writeFile takes its name. */
function linkFile(existing: string, t: FileTask, to: FileName): Taken {
  checkCanceled();
  const taking: Taking = to.place
    ? decideTaking(to.path, to.place, t.mtimeNs, to.fresh)
    : { how: to.fresh ? 'create' : 'replace', changed: false };
  if (taking.how === 'skip') return { skipped: true, changed: true };
  if (to.fresh && taking.how === 'create' && !taking.changed) {
    linkSync(fsPath(existing), fsPath(to.path)); // a folder this restore made: the name is free
    return {};
  }
  const tmp = tempPath(to.path);
  linkSync(fsPath(existing), fsPath(tmp));
  return commit(tmp, t, to, taking);
}

function describe(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && NO_SPACE_CODES.has(code)) return noSpaceMessage(code);
  if (e instanceof RestoreFailure || e instanceof BulwarkError) return e.message;
  return fsErrorText(e);
}

function outcome(seq: number, e: unknown): FileOutcome {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return { seq, error: describe(e), ...(typeof code === 'string' ? { code } : {}) };
}

/** Restores every name of one file: the content once, the other names as links to it. */
function restoreTask(t: FileTask): FileOutcome[] {
  const names: FileName[] = [t, ...(t.links ?? [])];
  const out: FileOutcome[] = [];
  let done: string | undefined; // where the content was written
  let noSpace: FileOutcome | undefined;
  for (const n of names) {
    if (done === undefined) {
      if (noSpace) {
        out.push({ ...noSpace, seq: n.seq }); // the next name would not fit either
        continue;
      }
      try {
        const taken = writeFile(t, n);
        // a name the policy skipped holds no copy: the next name gets the content
        if (!taken.skipped) done = taken.keptAt ?? n.path;
        out.push({ seq: n.seq, ...taken });
      } catch (e) {
        const o = outcome(n.seq, e);
        out.push(o);
        if (o.code !== undefined && NO_SPACE_CODES.has(o.code)) noSpace = o;
      }
      continue;
    }
    try {
      out.push({ seq: n.seq, ...linkFile(done, t, n) });
    } catch (e) {
      if (isCanceled(e)) {
        out.push(outcome(n.seq, e));
        continue;
      }
      // No link here (a mount point inside the target: EXDEV; too many links: EMLINK): a copy keeps the data.
      try {
        const taken = writeFile(t, n);
        out.push({
          seq: n.seq,
          ...taken,
          ...(taken.skipped
            ? {}
            : {
                warning: `restored as a separate copy, not as another name of the same file (${describe(e)})`,
              }),
        });
      } catch (e2) {
        out.push(outcome(n.seq, e2));
      }
    }
  }
  return out;
}

const isCanceled = (e: unknown): boolean => e instanceof BulwarkError && e.code === 'CANCELED';

port.on('message', (m: ToRestoreWorker) => {
  batchRefs = m.files.flatMap((t) => t.blobs);
  batchIndex = new Map(batchRefs.map((r, i) => [r, i]));
  const results = m.files.flatMap(restoreTask);
  port.postMessage({ type: 'done', results } satisfies FromRestoreWorker);
});
