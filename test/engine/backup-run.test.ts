import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../src-main/engine/catalog/catalog.ts';
import { BulwarkError } from '../../src-main/engine/errors.ts';
import { rebuildCatalog } from '../../src-main/engine/ops/rebuild.ts';
import { restoreSnapshot } from '../../src-main/engine/ops/restore.ts';
import { verifyRepository } from '../../src-main/engine/ops/verify.ts';
import { initRepository, Repository } from '../../src-main/engine/repo/repository.ts';
import { FsStore } from '../../src-main/engine/storage/fs.ts';
import type { PutBody, PutOptions, PutResult } from '../../src-main/engine/storage/types.ts';
import { makeFsRepo, PASSWORD, TEST_KDF, tempDir } from './helpers/repo.ts';

const MiB = 1024 * 1024;

/** A folder store whose pack uploads wait until the test lets them go or fails them. */
class GatedStore extends FsStore {
  private release!: () => void;
  private refuse!: (e: Error) => void;
  private readonly gate = new Promise<void>((res, rej) => {
    this.release = res;
    this.refuse = rej;
  });
  packPuts = 0;

  constructor(root: string) {
    super({ root });
    this.gate.catch(() => undefined);
  }

  override async put(name: string, body: PutBody, opts?: PutOptions): Promise<PutResult> {
    if (name.startsWith('packs/')) {
      this.packPuts++;
      await this.gate;
    }
    return super.put(name, body, opts);
  }

  open(): void {
    this.release();
  }

  fail(e: Error): void {
    this.refuse(e);
  }
}

/** Rejects with a clear message instead of letting the test time out when the backup never ends. */
function settlesWithin<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms`)), ms);
    }),
  ]);
}

describe('backup failure paths', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const setup = async (): Promise<{ store: GatedStore; repo: Repository; src: string }> => {
    const dir = tempDir('backup-fail');
    dirs.push(dir);
    const store = new GatedStore(join(dir, 'repo'));
    await initRepository(store, PASSWORD, { kdf: TEST_KDF });
    const repo = await Repository.open(store, PASSWORD, Catalog.open(join(dir, 'catalog.db')));
    const src = join(dir, 'src');
    mkdirSync(src);
    // incompressible, so each file fills most of a 1 MiB pack
    for (let i = 0; i < 3; i++) writeFileSync(join(src, `f${i}.bin`), randomBytes(600 * 1024));
    return { store, repo, src };
  };

  // Regression: a failure that arrived after every file was read but before the readers had closed
  // their packs dropped the readers' "flushed" answers, and the backup waited forever.
  it('an upload that fails while the readers close their packs ends the run with that error', async () => {
    const { store, repo, src } = await setup();
    try {
      const run = backup(repo, {
        paths: [src],
        packTarget: 1 * MiB,
        onProgress: (p) => {
          if (p.phase === 'uploading') store.fail(new BulwarkError('NETWORK', 'connection refused (test)'));
        },
      });
      const err = await settlesWithin(
        run.then(
          () => undefined,
          (e: unknown) => e,
        ),
        20_000,
        'the backup',
      );
      expect(err).toBeInstanceOf(BulwarkError);
      expect((err as BulwarkError).code).toBe('NETWORK');
      expect(store.packPuts).toBeGreaterThan(0);
      for await (const o of store.list('snapshots/')) throw new Error(`${o.name} was committed`);
    } finally {
      repo.catalog.close();
    }
  }, 30_000);

  it('the same run completes once the uploads go through', async () => {
    const { store, repo, src } = await setup();
    try {
      const snap = await settlesWithin(
        backup(repo, {
          paths: [src],
          packTarget: 1 * MiB,
          onProgress: (p) => {
            if (p.phase === 'uploading') store.open();
          },
        }),
        20_000,
        'the backup',
      );
      expect(snap.stats.files).toBe(3);
      expect(snap.stats.errorCount).toBe(0);
      expect(store.packPuts).toBeGreaterThan(1);
    } finally {
      repo.catalog.close();
    }
  }, 30_000);
});

describe('index objects written during the run', () => {
  it('a run over many blobs writes several index objects; verify, restore and a rebuilt catalog see them all', async () => {
    const t = await makeFsRepo('index-parts');
    const src = join(t.dir, 'src');
    try {
      mkdirSync(src);
      for (let i = 0; i < 300; i++)
        writeFileSync(join(src, `f${i}.txt`), `file ${i} ${randomBytes(8).toString('hex')}\n`);
      // small packs, so many packs finish (and get indexed) while the run goes on
      const snap = await backup(t.repo, { paths: [src], packTarget: 4096, indexBlobs: 40 });
      const indexes: string[] = [];
      for await (const o of t.store.list('index/')) indexes.push(o.name);
      expect(indexes.length).toBeGreaterThan(3);
      const v = await verifyRepository(t.repo, { readData: true });
      expect(v.problems).toEqual([]);

      t.repo.catalog.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(t.catalogPath + suffix, { force: true });
      t.repo = await Repository.open(t.store, PASSWORD, Catalog.open(t.catalogPath));
      await rebuildCatalog(t.repo);
      const out = join(t.dir, 'out');
      const r = await restoreSnapshot(t.repo, { snapshot: snap.id, target: out });
      expect(r.errors).toEqual([]);
      execFileSync('diff', ['-r', src, join(out, 'src')]);
    } finally {
      t.cleanup();
    }
  }, 60_000);
});
