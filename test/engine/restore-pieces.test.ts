/**
 * A restore from a store without local packs (S3) downloads each pack in pieces: a file whose blobs lie in
 * the pieces already here is written at once, before the rest of its pack arrives (restore-files.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../src-main/engine/catalog/catalog.ts';
import { restoreSnapshot } from '../../src-main/engine/ops/restore.ts';
import { Repository } from '../../src-main/engine/repo/repository.ts';
import type { BlobStore, ByteRange } from '../../src-main/engine/storage/types.ts';
import { makeFsRepo, PASSWORD, tempDir } from './helpers/repo.ts';

const MiB = 1 << 20;
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups.reverse()) c();
});

/**
 * A folder store seen as a remote one (no local paths: packs are downloaded), where every read of a pack
 * after its first piece waits until `open()`.
 */
function gatedRemote(inner: BlobStore): { store: BlobStore; open(): void; held: () => number } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const first = new Map<string, number>();
  let held = 0;
  const store: BlobStore = {
    location: inner.location,
    capabilities: inner.capabilities,
    put: (name, body, opts) => inner.put(name, body, opts),
    async get(name: string, range?: ByteRange, signal?: AbortSignal) {
      if (name.startsWith('packs/') && range) {
        const start = first.get(name) ?? range.offset;
        first.set(name, start);
        if (range.offset > start) {
          held++;
          await gate;
        }
      }
      return inner.get(name, range, signal);
    },
    head: (name) => inner.head(name),
    list: (prefix, signal) => inner.list(prefix, signal),
    delete: (name) => inner.delete(name),
    serverTime: () => inner.serverTime(),
  };
  return { store, open: release, held: () => held };
}

describe('restore from a remote store', () => {
  it('writes a file as soon as the pieces holding its blobs arrived, before the rest of its pack', async () => {
    const t = await makeFsRepo('pieces');
    cleanups.push(() => t.cleanup());
    const src = join(t.dir, 'src');
    mkdirSync(src);
    const small = randomBytes(10_000);
    const big = randomBytes(6 * MiB); // incompressible: the pack is > 6 MiB, two pieces at least
    writeFileSync(join(src, 'a.txt'), small);
    writeFileSync(join(src, 'big.bin'), big);
    // one reader: the pack holds a.txt first, then big.bin (the order of the scan)
    const snap = await backup(t.repo, { paths: [src], source: 'pieces', readers: 1 });

    t.repo.catalog.close();
    const remote = gatedRemote(t.store);
    const repo = await Repository.open(remote.store, PASSWORD, Catalog.open(t.catalogPath));
    cleanups.push(() => repo.catalog.close());
    const out = tempDir('pieces-out');
    cleanups.push(() => rmSync(out, { recursive: true, force: true }));

    let filesDone = 0;
    const restored = restoreSnapshot(repo, {
      snapshot: snap.id,
      target: out,
      onProgress: (p) => void (filesDone = p.filesDone),
    });
    try {
      // a.txt is written while the second piece of its pack is held back
      const deadline = Date.now() + 20_000;
      while (filesDone < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(remote.held(), 'the second piece was asked for and held').toBeGreaterThan(0);
      expect(filesDone, 'a.txt was written before its pack was whole').toBeGreaterThanOrEqual(1);
    } finally {
      remote.open(); // a failed check leaves no restore waiting
    }
    const r = await restored;
    expect(r.errors).toEqual([]);
    const root = join(out, 'src');
    expect(readFileSync(join(root, 'a.txt')).equals(small)).toBe(true);
    expect(readFileSync(join(root, 'big.bin')).equals(big)).toBe(true);
  }, 60_000);
});
