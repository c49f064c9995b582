/**
 * The file readers: worker threads that chunk, deduplicate, compress, seal and pack file content. Files
 * go in batches to the least-loaded reader; the scanner pauses while too many reads wait (flow.ts).
 */
import type { Worker } from 'node:worker_threads';
import { FLOW_QUEUED_FILES } from '../flow.ts';
import type { FileJob, FileResult, ToWorker, WorkerInit } from '../protocol.ts';

const BATCH_FILES = 64;
const BATCH_BYTES = 8 * 1024 * 1024;
/** what a queued file weighs beyond its bytes (opening, statting, a small file's message) */
const FILE_OVERHEAD = 4096;

interface Reader {
  worker: Worker;
  queuedBytes: number;
  batch: FileJob[];
  batchBytes: number;
}

export interface ReaderPoolHooks<T> {
  /** the readers' shared settings (builds the dedup table): asked when the first file must be read */
  init(): WorkerInit;
  spawn(init: WorkerInit): Worker;
  /** a file was read, or could not be; `size` is the size it was queued with */
  read(item: T, result: FileResult, size: number): void;
  /** a batch of results was handled */
  batchDone(): void;
}

export class ReaderPool<T> {
  private readers: Reader[] | undefined;
  private readonly jobs = new Map<number, { item: T; size: number }>();
  private seq = 0;
  private readonly flushed = new Map<Worker, () => void>();
  private readonly count: number;
  private readonly flow: Int32Array;
  private readonly hooks: ReaderPoolHooks<T>;

  constructor(count: number, flow: Int32Array, hooks: ReaderPoolHooks<T>) {
    this.count = count;
    this.flow = flow;
    this.hooks = hooks;
  }

  /** The readers start only when the first file must be read: a backup where nothing changed never pays for them. */
  private start(): Reader[] {
    const init = this.hooks.init();
    return Array.from({ length: this.count }, () => ({
      worker: this.hooks.spawn(init),
      queuedBytes: 0,
      batch: [],
      batchBytes: 0,
    }));
  }

  /** Queues a file for reading; `item` comes back with its result. */
  queue(item: T, file: Omit<FileJob, 'seq'>): void {
    const readers = (this.readers ??= this.start());
    const r = readers.reduce((a, b) => (b.queuedBytes + b.batchBytes < a.queuedBytes + a.batchBytes ? b : a));
    const job: FileJob = { seq: ++this.seq, ...file };
    this.jobs.set(job.seq, { item, size: job.size });
    r.batch.push(job);
    r.batchBytes += job.size + FILE_OVERHEAD;
    r.queuedBytes += job.size + FILE_OVERHEAD;
    Atomics.add(this.flow, FLOW_QUEUED_FILES, 1);
    if (r.batch.length >= BATCH_FILES || r.batchBytes >= BATCH_BYTES) this.flushBatch(r);
  }

  /** Sends every partly filled batch (after each folder: readers never wait for a full one). */
  flushBatches(): void {
    for (const r of this.readers ?? []) this.flushBatch(r);
  }

  private flushBatch(r: Reader): void {
    if (r.batch.length === 0) return;
    const msg: ToWorker = { type: 'files', jobs: r.batch };
    r.worker.postMessage(msg);
    r.batch = [];
    r.batchBytes = 0;
  }

  /** Results from one reader. */
  results(worker: Worker, results: FileResult[]): void {
    const r = this.readers?.find((x) => x.worker === worker);
    if (!r) return;
    for (const res of results) {
      const j = this.jobs.get(res.seq);
      if (!j) continue;
      this.jobs.delete(res.seq);
      r.queuedBytes -= j.size + FILE_OVERHEAD;
      Atomics.sub(this.flow, FLOW_QUEUED_FILES, 1);
      this.hooks.read(j.item, res, j.size);
    }
    this.hooks.batchDone();
    Atomics.notify(this.flow, FLOW_QUEUED_FILES);
  }

  /** Tells every reader (the dedup table grew, ...). */
  broadcast(msg: ToWorker): void {
    for (const r of this.readers ?? []) r.worker.postMessage(msg);
  }

  /** Asks every reader to close its open pack; resolves once all answered (`flushedBy`). */
  flushPacks(): Promise<void> {
    return Promise.all(
      (this.readers ?? []).map(
        (r) =>
          new Promise<void>((res) => {
            this.flushed.set(r.worker, res);
            r.worker.postMessage({ type: 'flush' } satisfies ToWorker);
          }),
      ),
    ).then(() => undefined);
  }

  /** A reader's answer to `flushPacks`. */
  flushedBy(worker: Worker): void {
    this.flushed.get(worker)?.();
  }

  /** The readers' threads (none before the first file was queued). */
  get workers(): Worker[] {
    return (this.readers ?? []).map((r) => r.worker);
  }

  get started(): boolean {
    return this.readers !== undefined;
  }
}
