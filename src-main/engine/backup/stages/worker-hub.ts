/**
 * Spawns the pipeline workers (the scanner and the readers) and hands their messages to the stages,
 * strictly in arrival order (a folder may wait for its parent's listing while later messages queue).
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BulwarkError, NO_SPACE_CODES } from '../../errors.ts';
import type { FinishedPack } from '../../repo/pack.ts';
import type { FileResult, FromWorker, WorkerInit } from '../protocol.ts';
import type { RunFailure } from './run-failure.ts';
import type { HandedOverScan } from './scan-ahead.ts';

export type DirMessage = Extract<FromWorker, { type: 'dir' }>;

/** What a run that ran out of room for its pack files (built in `tmpBase` before upload) stops with. */
export function packSpaceError(tmpBase: string, code: string): BulwarkError {
  const why = code === 'EDQUOT' ? 'your disk quota is used up' : 'the disk is full';
  return new BulwarkError(
    'NO_SPACE',
    `the backup stopped: ${why} where it builds its packs before storing them (${tmpBase}); nothing was lost and no snapshot was made`,
    { hint: 'Free some space on that disk, then back up again.' },
  );
}

/** The pipeline worker's module (worker.ts, or worker.js once built), beside this folder. */
export const PIPELINE_WORKER_URL = new URL(
  `../worker${extname(fileURLToPath(import.meta.url))}`,
  import.meta.url,
);

export interface WorkerHandlers {
  dir(m: DirMessage): Promise<void>;
  scanDone(): void;
  files(worker: Worker, results: FileResult[]): void;
  pack(pack: FinishedPack): Promise<void>;
  flushed(worker: Worker): void;
}

export class WorkerHub {
  private chain: Promise<void> = Promise.resolve();
  private readonly workers: Worker[] = [];
  /** workers stopped because their part was done: their exit is no failure */
  private readonly retired = new WeakSet<Worker>();
  private closed = false;
  private readonly url: URL;
  private readonly handlers: WorkerHandlers;
  private readonly failure: RunFailure;
  /** the temp folder, named when a worker runs out of space in it */
  private readonly tmpBase: string;

  constructor(url: URL, handlers: WorkerHandlers, failure: RunFailure, tmpBase: string) {
    this.url = url;
    this.handlers = handlers;
    this.failure = failure;
    this.tmpBase = tmpBase;
  }

  spawn(init: WorkerInit): Worker {
    const w = new Worker(this.url, { workerData: init });
    this.listen(w);
    return w;
  }

  /**
   * Takes over a worker started before the run (the scanner of a ScanAhead): what it reported so far is
   * handled first, in order, then whatever it reports next.
   */
  adopt(scan: HandedOverScan): void {
    const w = scan.worker;
    // taken out of the hand-over, which its caller's frame keeps for the whole run: each message is let go
    // once handled (a scan that ran ahead while the key was derived holds up to 32 000 entries, ~10 MB)
    for (const m of scan.early.splice(0)) this.then(() => this.handle(w, m));
    this.listen(w);
    if (scan.problem) this.failure.fail(scan.problem);
  }

  private listen(w: Worker): void {
    this.workers.push(w);
    w.on('message', (m: FromWorker) => this.then(() => this.handle(w, m)));
    w.on('error', this.failure.fail);
    w.on('exit', (code) => {
      if (code !== 0 && !this.failure.hasFailed && !this.closed && !this.retired.has(w))
        this.failure.fail(new BulwarkError('INTERNAL', `a backup worker exited with code ${code}`));
    });
  }

  private async handle(w: Worker, m: FromWorker): Promise<void> {
    // answered even after a failure: the coordinator may be waiting for it
    if (m.type === 'flushed') return this.handlers.flushed(w);
    if (this.failure.hasFailed) return;
    switch (m.type) {
      case 'dir':
        return this.handlers.dir(m);
      case 'scan-done':
        // the scanner's last message: its thread (an isolate, ~10-15 MB) ends while the readers go on
        this.retire(w).catch(this.failure.fail);
        return this.handlers.scanDone();
      case 'files-done':
        return this.handlers.files(w, m.results);
      case 'pack':
        return this.handlers.pack(m.pack);
      case 'fatal':
        throw m.code !== undefined && NO_SPACE_CODES.has(m.code)
          ? packSpaceError(this.tmpBase, m.code)
          : new BulwarkError('INTERNAL', `backup worker failed: ${m.message}`);
    }
  }

  /** Runs `step` after every message handled so far; its failure is the run's. */
  then(step: () => void | Promise<void>): void {
    this.chain = this.chain.then(step).catch(this.failure.fail);
  }

  /** Resolves once every message received so far is handled. */
  settled(): Promise<void> {
    return this.chain;
  }

  /**
   * Stops one worker whose part is done (the scanner after its walk, the readers after their last pack), so
   * its memory is given back before the run's last stages (tree pack, index, commit) instead of after them.
   */
  async retire(w: Worker): Promise<void> {
    const i = this.workers.indexOf(w);
    if (i < 0) return;
    this.workers.splice(i, 1);
    this.retired.add(w);
    await w.terminate();
  }

  /** Stops every worker (their exits are no failure now). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
