import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog } from '../../../src-main/engine/catalog/catalog.ts';
import { initRepository, Repository } from '../../../src-main/engine/repo/repository.ts';
import { FsStore } from '../../../src-main/engine/storage/fs.ts';
import type { BlobStore } from '../../../src-main/engine/storage/types.ts';

export const TEST_KDF = { N: 1024, r: 8, p: 1 };
export const PASSWORD = 'correct horse battery staple';

export function tempDir(tag = 'test'): string {
  return mkdtempSync(join(tmpdir(), `bulwark-${tag}-`));
}

/** Temp folders of one test file, removed together at its end (`afterAll(scratch.removeAll)`). */
export function tempDirs(): { temp(tag: string): string; removeAll(): void } {
  const dirs: string[] = [];
  return {
    temp(tag: string): string {
      const d = tempDir(tag);
      dirs.push(d);
      return d;
    },
    removeAll(): void {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

export interface TestRepo {
  dir: string;
  store: BlobStore;
  repo: Repository;
  catalogPath: string;
  reopen(): Promise<Repository>;
  cleanup(): void;
}

/** A filesystem repository in a temp folder with its own catalog file. */
export async function makeFsRepo(tag = 'repo'): Promise<TestRepo> {
  const dir = tempDir(tag);
  const store = new FsStore({ root: join(dir, 'repo') });
  await initRepository(store, PASSWORD, { kdf: TEST_KDF });
  const catalogPath = join(dir, 'catalog.db');
  const repo = await Repository.open(store, PASSWORD, Catalog.open(catalogPath));
  const t: TestRepo = {
    dir,
    store,
    repo,
    catalogPath,
    async reopen() {
      t.repo.catalog.close();
      t.repo = await Repository.open(store, PASSWORD, Catalog.open(catalogPath));
      return t.repo;
    },
    cleanup() {
      t.repo.catalog.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}
