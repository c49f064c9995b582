/** Uploads finished packs (from the readers and the tree saver) a few at a time, and records them. */
import { rmSync } from 'node:fs';
import { objectNames } from '../../repo/format.ts';
import type { FinishedPack } from '../../repo/pack.ts';
import type { Repository } from '../../repo/repository.ts';
import type { PutOptions } from '../../storage/types.ts';
import { TaskPool } from '../../util/pool.ts';
import type { RunFailure } from './run-failure.ts';

export class PackUploader {
  private readonly pool: TaskPool;
  private readonly send: (pack: FinishedPack) => Promise<void>;
  private readonly failure: RunFailure;
  private readonly records: PackRecords | undefined;

  constructor(
    concurrency: number,
    send: (pack: FinishedPack) => Promise<void>,
    failure: RunFailure,
    records?: PackRecords,
  ) {
    this.pool = new TaskPool(concurrency);
    this.send = send;
    this.failure = failure;
    this.records = records;
  }

  /**
   * Resolves once the upload has started and the catalog has room (backpressure). A failed upload stops
   * the whole run at once (reading on would only fill the temp folder).
   */
  async upload(pack: FinishedPack): Promise<void> {
    await this.records?.room();
    // the run failed while this pack waited: it is not sent (the run's folder, with it, is removed)
    if (this.failure.hasFailed) return;
    return this.pool.add(async () => {
      try {
        await this.send(pack);
      } catch (e) {
        this.failure.fail(e);
        throw e;
      }
    });
  }

  /** Waits for every upload; rethrows the first failure. */
  drain(): Promise<void> {
    return this.pool.drain();
  }
}

/**
 * Records stored packs in the catalog while the coordinator goes on (`Catalog.addPackInSlices`), and says
 * when too many wait for it: each holds its list of blobs (~5 MB for a pack of 27 000 small files), so the
 * next pack's upload waits (`room`) while `max` are being recorded (a backup: one).
 */
export class PackRecords {
  private waiting = 0;
  private wakers: (() => void)[] = [];
  private readonly record: (pack: FinishedPack) => Promise<void>;
  private readonly max: number;

  constructor(record: (pack: FinishedPack) => Promise<void>, max: number) {
    this.record = record;
    this.max = max;
  }

  async add(pack: FinishedPack): Promise<void> {
    this.waiting++;
    try {
      await this.record(pack);
    } finally {
      this.waiting--;
      const wakers = this.wakers.splice(0);
      for (const w of wakers) w();
    }
  }

  /** Resolves once fewer than `max` packs are being recorded. */
  async room(): Promise<void> {
    while (this.waiting >= this.max) await new Promise<void>((res) => this.wakers.push(res));
  }
}

/** Stores a pack in the repository and the catalog, then calls `onStored` (index writer, counters). */
export function packSender(
  repo: Repository,
  putOpts: PutOptions,
  retainUntil: Date | undefined,
  signal: AbortSignal | undefined,
  records: PackRecords,
  onStored: (pack: FinishedPack) => void,
): (pack: FinishedPack) => Promise<void> {
  return async (pack) => {
    await repo.store.put(
      objectNames.pack(pack.id),
      { path: pack.path, size: pack.size, adopt: true },
      {
        ...putOpts,
        ...(pack.md5 !== undefined ? { contentMd5: pack.md5 } : {}),
        ...(signal ? { signal } : {}),
      },
    );
    await records.add(pack);
    onStored(pack);
    rmSync(pack.path, { force: true }); // gone already when the store adopted it
  };
}
