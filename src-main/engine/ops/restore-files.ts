import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BulwarkError, throwIfAborted } from '../errors.ts';
import { objectNames, type TreeNode } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import type { BlobStore } from '../storage/types.ts';
import { TaskPool } from '../util/pool.ts';
import type { Placement } from './restore-place.ts';
import type {
  BlobRef,
  FileName,
  FileOutcome,
  FileTask,
  FromRestoreWorker,
  RestoreWorkerInit,
  ToRestoreWorker,
} from './restore-protocol.ts';

const WORKER_URL = new URL(`./restore-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
const BATCH_FILES = 32;
const BATCH_BYTES = 16 << 20;
/**
 * A writer is given more only while it holds less than this (files handed over, not yet done): the rest
 * waits in a queue and goes to whichever writer is free first. Handing everything out at once left one
 * writer alone with the end of its list while the others were done (a slower end, and an ETA that a
 * restore never kept).
 */
const WRITER_BYTES = 2 * BATCH_BYTES;
const WRITER_FILES = 4 * BATCH_FILES;
const PIECE = 4 << 20;
/** packs downloaded side by side (S3) */
const DOWNLOADS = 4;

/** What a writer holds: files handed to it and not done yet, and their bytes (+4 KiB each). */
export interface WriterLoad {
  queued: number;
  queuedFiles: number;
}

/** The least busy writer (by bytes) among those with room (WRITER_BYTES, WRITER_FILES); none if all are full. */
export function writerWithRoom<W extends WriterLoad>(writers: readonly W[]): W | undefined {
  let best: W | undefined;
  for (const w of writers) {
    if (w.queued >= WRITER_BYTES || w.queuedFiles >= WRITER_FILES) continue;
    if (best === undefined || w.queued < best.queued) best = w;
  }
  return best;
}

interface PackNeed {
  id: string;
  start: number;
  end: number;
  /** the files that need it, each once (however many of its blobs a file holds), in order */
  files: number[];
  /** per entry of `files`: where that file's last byte in this pack ends (its blobs here are local then) */
  ends: number[];
  /** how many of `files` are not written yet (the downloaded copy is deleted at 0) */
  pending: number;
  localPath?: string;
  downloaded: boolean;
}

/**
 * The files to restore, by index (0 to length - 1). A list of accessors rather than an object per file: a
 * run keeps them compactly (restore.ts, PlannedFiles), and 80 000 small files are 80 000 objects less.
 */
export interface FilesToWrite {
  readonly length: number;
  /** where it is written */
  path(i: number): string;
  node(i: number): TreeNode;
  /** its folder was created by this run (nothing can be at its name) */
  fresh(i: number): boolean;
  /** the index of an earlier file of the list this one is another name of (hard links) */
  linkTo(i: number): number | undefined;
  /** how its name is taken (restore-place.ts); undefined: whatever is there is replaced */
  place(i: number): Placement | undefined;
}

/**
 * Below this average size, a restore's files cost a writer more (an open, a write, its times and mode, a
 * close each) than their bytes cost the downloads.
 */
const SMALL_FILES = 32 << 10;

/**
 * How many writer threads a restore starts. From a folder this thread only hands out files and every core
 * can write; from S3 it also downloads (HTTP, the copies into temp files), which takes a core of its own,
 * unless the files are small on average: then the writers are behind and a core of their own each pays.
 * Measured on 2 cores from RGW (docs/DECISIONS.md): the corpus (64 KiB a file on average) as fast with one
 * writer as with two and 25 MB lighter; 16 000 small files (~10 KiB) 13 % faster with two, +11 MB. Each
 * writer is an isolate of ~25 MB.
 */
export function defaultWriters(packsAreLocal: boolean, cores: number, averageFileBytes = Infinity): number {
  if (packsAreLocal) return Math.max(2, cores);
  return Math.max(1, averageFileBytes < SMALL_FILES ? cores : cores - 1);
}

/**
 * Writes files from their blobs with writer threads. Packs are read in place when the store is a local
 * folder; otherwise the needed span of each pack is downloaded once (in 4 MiB ranges, 4 packs at a time)
 * into a temp file as it arrives, files are handed to the writers as soon as their blobs are local (a
 * pack's first bytes serve its first files while the rest downloads), and each copy is deleted when no
 * pending file needs it.
 * Each pack is fetched once, however many files share it. A file with `linkTo` goes to the writer with the
 * file it is another name of (hard links: restore-worker.ts).
 */
export async function writeFiles(
  repo: Repository,
  files: FilesToWrite,
  opts: {
    signal?: AbortSignal;
    threads?: number;
    onFileDone: (index: number, outcome: Omit<FileOutcome, 'seq'>) => void;
    /** after the files a writer answered for together were each given to onFileDone (to report once) */
    onFilesDone?: () => void;
    /** bytes of a large file written so far (reported every few MiB) */
    onFileProgress?: (index: number, bytes: number) => void;
    /** tests only (RestoreWorkerInit.testNoSpaceAfter) */
    testNoSpaceAfter?: number;
  },
): Promise<void> {
  if (files.length === 0) return;
  const { store } = repo;
  // Cancel: the writers look at this flag between files and blobs (a batch is handled in one go, so a
  // message would only be seen once it is done) and drop the file they are writing.
  const cancel = new SharedArrayBuffer(4);
  const tellWriters = (): void => {
    Atomics.store(new Int32Array(cancel), 0, 1);
  };
  const init: RestoreWorkerInit = {
    encKey: repo.key.encKey,
    idKey: repo.key.idKey,
    cancel,
    ...(opts.testNoSpaceAfter !== undefined ? { testNoSpaceAfter: opts.testNoSpaceAfter } : {}),
  };
  const local = store.localPath?.bind(store);
  let bytes = 0;
  for (let i = 0; i < files.length; i++) bytes += files.node(i).size ?? 0;
  const wanted =
    opts.threads ?? defaultWriters(local !== undefined, availableParallelism(), bytes / files.length);
  const n = Math.max(1, Math.min(wanted, files.length));
  // Started first: a thread loads its modules while this one looks up every blob of every file (a tree of
  // many small files: that lookup takes a while). Their listeners are added below, before any event.
  const threads = Array.from({ length: n }, () => new Worker(WORKER_URL, { workerData: init }));
  let resolved: ReturnType<typeof resolveFiles>;
  let cacheDir: string | undefined;
  try {
    resolved = resolveFiles(repo, files, local);
    for (const u of resolved.unresolved) {
      // never written: the packs it was found in no longer wait for it (those before its missing blob)
      eachPackOf(resolved.spots, resolved.packs, u.index, (p) => void p.pending--);
      opts.onFileDone(u.index, { error: u.error });
      for (const l of resolved.links.get(u.index) ?? []) opts.onFileDone(l.seq, { error: u.error });
    }
    if (resolved.unresolved.length > 0) opts.onFilesDone?.();
    cacheDir = local ? undefined : mkdtempSync(join(tmpdir(), 'bulwark-restore-'));
  } catch (e) {
    // nothing was handed to the threads yet: stopped at once
    await Promise.all(threads.map((t) => t.terminate()));
    throw e;
  }
  const { packs, spots, waiting, unresolved, links } = resolved;

  let failure: unknown;
  let outstanding = 0;
  let allDone!: () => void;
  const done = new Promise<void>((r) => (allDone = r));
  // resolved whenever no file is at a writer (a stop must not kill a thread in the middle of a file)
  let idle: (() => void)[] = [];
  const whenIdle = (): Promise<void> =>
    outstanding === 0 || failure !== undefined ? Promise.resolve() : new Promise<void>((r) => idle.push(r));

  const writers = threads.map((w) => {
    // queued: bytes and files handed to it (its batch included) and not done yet
    const entry = { w, queued: 0, queuedFiles: 0, batch: [] as FileTask[], batchBytes: 0 };
    w.on('message', (m: FromRestoreWorker) => {
      if (m.type === 'progress') {
        opts.onFileProgress?.(m.seq, m.bytes);
        return;
      }
      for (const r of m.results) {
        if (files.linkTo(r.seq) === undefined) {
          entry.queued -= (files.node(r.seq).size ?? 0) + 4096;
          entry.queuedFiles--;
        }
        outstanding--;
        opts.onFileDone(r.seq, r);
        releasePacks(r.seq);
      }
      opts.onFilesDone?.();
      pump();
      if (outstanding === 0) {
        for (const r of idle) r();
        idle = [];
      }
      if (outstanding === 0 && (dispatchedAll() || stopped())) allDone();
    });
    w.on('error', (e) => {
      failure ??= e;
      allDone();
      for (const r of idle) r();
      idle = [];
    });
    return entry;
  });

  /** Deletes a pack's downloaded copy once the whole span is here and no file waits for it any more. */
  const unlinkIfDone = (p: PackNeed): void => {
    if (p.pending !== 0 || !p.downloaded || !p.localPath) return;
    try {
      unlinkSync(p.localPath);
    } catch (e) {
      // Already gone is fine; any other failure leaves the copy to the removal of the whole cache
      // folder at the end (rmSync in the finally below), which throws if it cannot remove it either.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') p.localPath = undefined;
    }
  };
  const releasePacks = (seq: number): void =>
    eachPackOf(spots, packs, seq, (p) => {
      p.pending--;
      unlinkIfDone(p);
    });

  // unresolved files and their other names are done already
  let dispatched = unresolved.reduce((n, u) => n + 1 + (links.get(u.index)?.length ?? 0), 0);
  const dispatchedAll = (): boolean => dispatched === files.length;
  const flush = (e: (typeof writers)[number]): void => {
    if (e.batch.length === 0) return;
    e.w.postMessage({ type: 'files', files: e.batch } satisfies ToRestoreWorker);
    e.batch = [];
    e.batchBytes = 0;
  };
  const dispatch = (seq: number, e: (typeof writers)[number]): void => {
    const t = fileTask(files, seq, spots, packs, links.get(seq));
    e.batch.push(t);
    e.batchBytes += t.size + 4096;
    e.queued += t.size + 4096;
    e.queuedFiles++;
    const names = 1 + (t.links?.length ?? 0);
    outstanding += names;
    dispatched += names;
    if (e.batch.length >= BATCH_FILES || e.batchBytes >= BATCH_BYTES) flush(e);
  };
  // Files whose packs are all local, in order, waiting for a writer with room (WRITER_BYTES).
  let ready: number[] = [];
  let next = 0;
  const stopped = (): boolean => opts.signal?.aborted === true || failure !== undefined;
  /**
   * Hands waiting files to the writers that have room, the least busy first. Only a writer with room is
   * chosen: when the least busy one by bytes was full by count the loop stopped while another writer had
   * room, and that one was then refilled a few files at a time (a restore of 80 000 small files sent
   * ~19 000 batches of 1-6 files instead of ~2 500 of 32, each a message both ways).
   */
  const pump = (): void => {
    while (next < ready.length && !stopped()) {
      const e = writerWithRoom(writers);
      if (e === undefined) break;
      dispatch(ready[next++]!, e);
    }
    for (const e of writers) flush(e);
    if (next > 4096 && next * 2 > ready.length) {
      ready = ready.slice(next);
      next = 0;
    }
  };
  /** One more of the file's packs holds its blobs locally: with the last one it is ready. */
  const packLocal = (seq: number): void => {
    if (waiting[seq]! > 0 && --waiting[seq]! === 0) ready.push(seq);
  };
  /** A pack's files whose blobs in it are all local now (a folder's pack: all of them). */
  const packReady = (p: PackNeed): void => {
    for (const seq of p.files) packLocal(seq);
    pump();
  };
  /**
   * A pack is downloaded from its start on, piece after piece: a file whose blobs in it end before what has
   * arrived goes to a writer now, not once the whole pack is here (a pack of small files is ~30 MB, and
   * with four downloads side by side the first whole pack came late: the writers waited meanwhile).
   */
  const releaseUpTo = (p: PackNeed, byEnd: Int32Array, from: number, arrived: number): number => {
    let k = from;
    for (; k < byEnd.length && p.ends[byEnd[k]!]! <= arrived; k++) packLocal(p.files[byEnd[k]!]!);
    if (k > from) pump();
    return k;
  };
  const onAbort = (): void => {
    tellWriters();
    if (outstanding === 0) allDone(); // nothing at a writer: nothing more will be handed out
  };
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    // Files without any blob (empty files) need no pack.
    for (let seq = 0; seq < waiting.length; seq++) if (waiting[seq] === 0) ready.push(seq);
    pump();
    if (local) {
      for (const p of packs) packReady(p);
    } else {
      const pool = new TaskPool(DOWNLOADS);
      for (const p of packs) {
        throwIfAborted(opts.signal);
        if (failure !== undefined) break;
        await pool.add(async () => {
          p.localPath = join(cacheDir!, p.id);
          // the pack's files by where their blobs in it end (mostly in order already: a backup packs a
          // folder's files in order)
          const byEnd = Int32Array.from(p.files.keys()).sort((a, b) => p.ends[a]! - p.ends[b]!);
          let released = 0;
          await downloadSpan(store, p.id, p.localPath, p.start, p.end, opts.signal, (upTo) => {
            if (failure === undefined) released = releaseUpTo(p, byEnd, released, upTo);
          });
          p.downloaded = true;
          releaseUpTo(p, byEnd, released, p.end);
          // every file of it may be written already: its copy goes now (releasePacks waited for this)
          unlinkIfDone(p);
        });
      }
      await pool.drain();
    }
    pump();
    if (outstanding > 0 || (!dispatchedAll() && !stopped())) await done;
    if (failure !== undefined) throw failure;
    throwIfAborted(opts.signal);
    if (!dispatchedAll()) throw new BulwarkError('INTERNAL', 'restore: some files never got their packs');
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    // Stopped early (canceled, a download failed): the writers were told (the cancel flag) or finish what
    // they hold; terminating one in the middle of a file would leave its temporary copy behind.
    if (outstanding > 0) {
      tellWriters();
      await whenIdle();
    }
    await Promise.all(writers.map((e) => e.w.terminate()));
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  }
}

/**
 * Where every blob of every file lies, in flat arrays: the blobs of file `seq` are `first[seq]` to
 * `first[seq + 1] - 1`, their ids the file's `node.content` in order, `pack` an index in the packs list. An
 * object and an array per blob held ~9 MB more through a restore of 80 000 small files.
 */
interface BlobSpots {
  first: Int32Array;
  pack: Int32Array;
  offset: Float64Array;
  length: Float64Array;
  rawLength: Float64Array;
}

/**
 * Downloads bytes [start, end) of pack `id` into a new file at `path` (the same offsets), in ranges of
 * PIECE one after the other, written as they arrive (ByteRange.sink: no buffer of a range's size; 4
 * downloads held 16 MiB of them). `arrived(upTo)` is called whenever every byte before `upTo` is in the
 * file, so files whose blobs have all come go to a writer at once. After a retried attempt a range comes
 * again from its start: the same bytes at the same place, and `upTo` never goes back past what was said.
 * Exported for its test.
 */
export async function downloadSpan(
  store: Pick<BlobStore, 'get'>,
  id: string,
  path: string,
  start: number,
  end: number,
  signal: AbortSignal | undefined,
  arrived: (upTo: number) => void,
): Promise<void> {
  const fd = openSync(path, 'wx', 0o600);
  const write = (bytes: Uint8Array, at: number): void => {
    let w = 0;
    while (w < bytes.length) w += writeSync(fd, bytes, w, bytes.length - w, at + w);
  };
  let said = start;
  const tell = (upTo: number): void => {
    if (upTo <= said) return;
    said = upTo;
    arrived(upTo);
  };
  try {
    for (let off = start; off < end; off += PIECE) {
      const len = Math.min(PIECE, end - off);
      let sinkError: unknown;
      const sink = (chunk: Uint8Array, at: number): void => {
        if (sinkError !== undefined) return;
        try {
          write(chunk, off + at);
          tell(off + at + chunk.length);
        } catch (e) {
          // a full disk, say: thrown below, once the store is done with the body (a sink must not throw,
          // or the store would take it for the network's failure and ask again)
          sinkError = e;
        }
      };
      let buf: Buffer;
      try {
        buf = await store.get(objectNames.pack(id), { offset: off, length: len, sink }, signal);
      } catch (e) {
        throw sinkError ?? e; // a full disk is what to tell, even if the download failed after it
      }
      if (sinkError !== undefined) throw sinkError;
      write(buf, off); // a store that returns the bytes instead (empty when they went to the sink)
      tell(off + len);
    }
  } finally {
    closeSync(fd);
  }
}

/** Calls `fn` once for each pack holding blobs of file `seq` (a large file has many blobs in few packs). */
function eachPackOf(spots: BlobSpots, packs: PackNeed[], seq: number, fn: (p: PackNeed) => void): void {
  const from = spots.first[seq]!;
  const to = spots.first[seq + 1]!;
  if (to === from) return; // an empty file, another name of a file
  if (to - from === 1) return fn(packs[spots.pack[from]!]!);
  const seen = new Set<number>();
  for (let k = from; k < to; k++) {
    const i = spots.pack[k]!;
    if (seen.has(i)) continue;
    seen.add(i);
    fn(packs[i]!);
  }
}

/**
 * The writer's task for a file, built when it is handed over: the main thread keeps only each file's blob
 * spots until then (a tree of many small files: the tasks of all of them at once cost ~0.5 KB a file).
 */
function fileTask(
  files: FilesToWrite,
  seq: number,
  spots: BlobSpots,
  packs: PackNeed[],
  links: FileName[] | undefined,
): FileTask {
  const path = files.path(seq);
  if (files.linkTo(seq) !== undefined) return { seq, path, mode: 0, mtimeNs: '0', size: 0, blobs: [] };
  const node = files.node(seq);
  const place = files.place(seq);
  const content = node.content ?? [];
  const from = spots.first[seq]!;
  const blobs: BlobRef[] = new Array<BlobRef>(spots.first[seq + 1]! - from);
  for (let j = 0; j < blobs.length; j++)
    blobs[j] = {
      id: content[j]!,
      packPath: packs[spots.pack[from + j]!]!.localPath!,
      offset: spots.offset[from + j]!,
      length: spots.length[from + j]!,
      rawLength: spots.rawLength[from + j]!,
    };
  return {
    seq,
    path,
    mode: node.mode,
    mtimeNs: node.mtimeNs,
    size: node.size ?? 0,
    blobs,
    ...(files.fresh(seq) ? { fresh: true } : {}),
    ...(place ? { place } : {}),
    ...(links ? { links } : {}),
  };
}

/**
 * Looks up every blob of every file (where it lies in which pack): per file its blob spots, and how many of
 * its packs are not local yet (-1: nothing to wait for, another name or a blob in no index).
 */
function resolveFiles(repo: Repository, files: FilesToWrite, local: ((name: string) => string) | undefined) {
  const { catalog, rid } = repo;
  const packs: PackNeed[] = [];
  // every blob id of every file in file order (another name of a file has none of its own)
  const ids: string[] = [];
  for (let i = 0; i < files.length; i++)
    if (files.linkTo(i) === undefined) for (const id of files.node(i).content ?? []) ids.push(id);
  const total = ids.length;
  const spots: BlobSpots = {
    first: new Int32Array(files.length + 1),
    pack: new Int32Array(total),
    offset: new Float64Array(total),
    length: new Float64Array(total),
    rawLength: new Float64Array(total),
  };
  const waiting = new Int32Array(files.length); // per file: packs not yet local
  const unresolved: { index: number; error: string }[] = [];
  // the other names of each file, by the index of its first name
  const links = new Map<number, FileName[]>();
  for (let i = 0; i < files.length; i++) {
    const to = files.linkTo(i);
    if (to === undefined) continue;
    const place = files.place(i);
    const name: FileName = {
      seq: i,
      path: files.path(i),
      ...(files.fresh(i) ? { fresh: true } : {}),
      ...(place ? { place } : {}),
    };
    const list = links.get(to);
    if (list) list.push(name);
    else links.set(to, [name]);
  }
  // Every blob of every file is looked up at once (Catalog.locateBlobs picks the order: by id, so each page
  // of the catalog is read about once), into the spots at the blob's place in file order. Below, file by
  // file, each spot's pack becomes the pack's place in `packs` (the order of first need: downloads follow
  // it), and a file with a blob in no index keeps only the blobs before that one (the spots move down).
  const packIds = catalog.locateBlobs(rid, ids, spots);
  const packAt = new Int32Array(packIds.length).fill(-1);
  let b = 0;
  let g = 0;
  for (let i = 0; i < files.length; i++) {
    spots.first[i] = b;
    // another name of an earlier file: written (linked) with it, needs no pack of its own
    if (files.linkTo(i) !== undefined) {
      waiting[i] = -1;
      continue;
    }
    const content = files.node(i).content ?? [];
    const next = g + content.length;
    let packCount = 0;
    let missing: string | undefined;
    for (let k = 0; k < content.length; k++, g++) {
      const found = spots.pack[g]!;
      if (found < 0) {
        missing = `blob ${content[k]!.slice(0, 12)} is in no index`;
        break;
      }
      const offset = spots.offset[g]!;
      const length = spots.length[g]!;
      let p = packAt[found]!;
      if (p < 0) {
        p = packs.length;
        packAt[found] = p;
        const id = packIds[found]!;
        const need: PackNeed = {
          id,
          start: offset,
          end: offset + length,
          files: [],
          ends: [],
          pending: 0,
          downloaded: false,
        };
        if (local) need.localPath = local(objectNames.pack(id));
        packs.push(need);
      }
      const need = packs[p]!;
      need.start = Math.min(need.start, offset);
      need.end = Math.max(need.end, offset + length);
      // files are looked at in order: this file is the last one listed if it needed this pack already
      const end = offset + length;
      if (need.files[need.files.length - 1] !== i) {
        need.files.push(i);
        need.ends.push(end);
        need.pending++;
        packCount++;
      } else if (end > need.ends[need.ends.length - 1]!) need.ends[need.ends.length - 1] = end;
      // b <= g: spot b was read already (at g = b)
      spots.pack[b] = p;
      spots.offset[b] = offset;
      spots.length[b] = length;
      spots.rawLength[b] = spots.rawLength[g]!;
      b++;
    }
    g = next;
    if (missing) unresolved.push({ index: i, error: missing });
    waiting[i] = missing ? -1 : packCount;
  }
  spots.first[files.length] = b;
  return { packs, spots, waiting, unresolved, links };
}
