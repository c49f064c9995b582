/**
 * A scan started before its backup run is prepared. The scanner needs nothing from the repository (no key,
 * no parent snapshot), and a backup where little changed is mostly its scan, so it walks meanwhile: while
 * the CLI unlocks the repository (scrypt, ~0.25 s on a thread of its own, the coordinator idle) and while
 * every run reads the config, the listings and the parent (round trips, on S3). It lists folders until
 * FLOW_LIMIT_ENTRIES_AHEAD entries wait (flow.ts); what it reports waits here, in order, until the run
 * takes the scanner over (WorkerHub.adopt), and from then on the run's own limit holds.
 * Measured: docs/DECISIONS.md, "Scanning while the key is derived".
 */
import type { BigIntStats } from 'node:fs';
import { lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BulwarkError, fromSystemError } from '../../errors.ts';
import { fsPath } from '../../util/fs-names.ts';
import { FLOW_ENTRIES_LIMIT, FLOW_LIMIT_ENTRIES, FLOW_LIMIT_ENTRIES_AHEAD, FLOW_SLOTS } from '../flow.ts';
import type { FromWorker, ScannerInit } from '../protocol.ts';
import { scanRequest, scanRootsOf, type ScanSelection } from './scan-feed.ts';
import { PIPELINE_WORKER_URL } from './worker-hub.ts';

/** What the run takes over: the scanner, what it said so far, and why it stopped if it did. */
export interface HandedOverScan {
  worker: Worker;
  early: FromWorker[];
  /** the scanner died before the run took it over */
  problem?: Error;
}

export class ScanAhead {
  /** the backed-up paths, resolved */
  readonly paths: string[];
  /** each path's lstat, taken once: the run's root entries are built from these (ScanFeed.roots) */
  readonly rootStats: BigIntStats[];
  /** the backpressure counters the run goes on with */
  readonly flow = new Int32Array(new SharedArrayBuffer(4 * FLOW_SLOTS));
  private readonly selection: string;
  private worker: Worker | undefined;
  private readonly early: FromWorker[] = [];
  private problem: Error | undefined;
  private readonly onMessage = (m: FromWorker): void => {
    this.early.push(m);
  };
  private readonly onError = (e: Error): void => {
    this.problem ??= e;
  };
  private readonly onExit = (code: number): void => {
    if (code !== 0)
      this.problem ??= new BulwarkError('INTERNAL', `the backup scanner exited with code ${code}`);
  };

  private constructor(paths: string[], rootStats: BigIntStats[], selection: ScanSelection) {
    this.paths = paths;
    this.rootStats = rootStats;
    this.selection = selectionKey(selection);
    const roots = scanRootsOf(paths, rootStats);
    if (roots.length === 0) return; // only files: nothing to walk
    Atomics.store(this.flow, FLOW_ENTRIES_LIMIT, FLOW_LIMIT_ENTRIES_AHEAD);
    const init: ScannerInit = { role: 'scanner' };
    const w = new Worker(PIPELINE_WORKER_URL, { workerData: init });
    w.on('message', this.onMessage);
    w.on('error', this.onError);
    w.on('exit', this.onExit);
    w.postMessage(scanRequest(roots, paths, this.flow, selection));
    this.worker = w;
  }

  /**
   * Starts walking `paths` with the run's selection (include, exclude, skipped folders). A path that
   * cannot be looked at fails here, as the run itself would.
   */
  static start(paths: readonly string[], selection: ScanSelection): ScanAhead {
    const resolved = paths.map((p) => resolve(p));
    const stats = resolved.map((p) => {
      try {
        return lstatSync(fsPath(p), { bigint: true });
      } catch (e) {
        throw fromSystemError(e, p);
      }
    });
    return new ScanAhead(resolved, stats, selection);
  }

  /** Whether the scanner has reported the end of its walk (before the hand-over). */
  get walked(): boolean {
    return this.early.at(-1)?.type === 'scan-done';
  }

  /** Whether this scan walks what a run of `paths` with `selection` would. */
  matches(paths: readonly string[], selection: ScanSelection): boolean {
    return (
      paths.length === this.paths.length &&
      paths.every((p, i) => resolve(p) === this.paths[i]) &&
      selectionKey(selection) === this.selection
    );
  }

  /** Gives the scanner and what it reported to the run (once); undefined when there was nothing to walk. */
  handOver(): HandedOverScan | undefined {
    const w = this.worker;
    if (!w) return undefined;
    this.worker = undefined;
    w.off('message', this.onMessage);
    w.off('error', this.onError);
    w.off('exit', this.onExit);
    // the run handles entries as they come: its own limit from now on
    Atomics.store(this.flow, FLOW_ENTRIES_LIMIT, FLOW_LIMIT_ENTRIES);
    const early = this.early.splice(0);
    return { worker: w, early, ...(this.problem ? { problem: this.problem } : {}) };
  }

  /** Stops the scanner unless a run took it over (the run was never started, or failed before). */
  async cancel(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.worker = undefined;
    this.early.length = 0;
    w.off('message', this.onMessage);
    await w.terminate();
  }
}

function selectionKey(s: ScanSelection): string {
  return JSON.stringify([s.include ?? [], s.exclude ?? [], (s.skipPaths ?? []).map((p) => resolve(p))]);
}
