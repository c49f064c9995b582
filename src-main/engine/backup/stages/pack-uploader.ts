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

  constructor(concurrency: number, send: (pack: FinishedPack) => Promise<void>, failure: RunFailure) {
    this.pool = new TaskPool(concurrency);
    this.send = send;
    this.failure = failure;
  }

  /**
   * Resolves once the upload has started (backpressure). A failed upload stops the whole run at once
   * (reading on would only fill the temp folder).
   */
  upload(pack: FinishedPack): Promise<void> {
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

/** Stores a pack in the repository and the catalog, then calls `onStored` (index writer, counters). */
export function packSender(
  repo: Repository,
  putOpts: PutOptions,
  retainUntil: Date | undefined,
  signal: AbortSignal | undefined,
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
    repo.catalog.addPack(repo.rid, pack, retainUntil ?? null, null);
    onStored(pack);
    rmSync(pack.path, { force: true }); // gone already when the store adopted it
  };
}
