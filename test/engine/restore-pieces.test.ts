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
import { downloadSpan } from '../../src-main/engine/ops/restore-files.ts';
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

describe('downloadSpan', () => {
  const MiB4 = 4 * MiB;
  const pack = randomBytes(MiB4 * 2 + 123_456); // three ranges: two whole, one short
  const start = 1000; // a span need not start at the pack's start
  const end = pack.length - 500;

  /** How the store answers a range: as bytes, or to the sink in chunks (a network store). */
  function fakeStore(mode: 'bytes' | 'sink', opts: { breakFirst?: boolean; failAt?: number } = {}) {
    let broke = false;
    const gets: { offset: number; length: number }[] = [];
    const store: Pick<BlobStore, 'get'> = {
      async get(name: string, range?: ByteRange) {
        if (!name.startsWith('packs/') || !range) throw new Error(`unexpected get ${name}`);
        gets.push({ offset: range.offset, length: range.length });
        const bytes = pack.subarray(range.offset, range.offset + range.length);
        if (mode === 'bytes' || !range.sink) return Buffer.from(bytes);
        for (let at = 0; at < bytes.length; at += 65_536) {
          if (opts.failAt !== undefined && range.offset + at >= opts.failAt)
            throw Object.assign(new Error('the connection was reset'), { code: 'NETWORK' });
          if (opts.breakFirst && !broke && at >= 3 * 65_536) {
            broke = true; // an attempt that broke off: the store asks again and hands it from the start
            at = -65_536;
            continue;
          }
          range.sink(bytes.subarray(at, at + 65_536), at);
          await new Promise((r) => setImmediate(r)); // the body arrives over time
        }
        return Buffer.alloc(0);
      },
    };
    return { store, gets };
  }

  async function download(store: Pick<BlobStore, 'get'>, inGet?: () => boolean) {
    const dir = tempDir('span');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'copy');
    const told: number[] = [];
    const toldDuringGet: number[] = [];
    const result = await downloadSpan(store, 'ab'.repeat(32), path, start, end, undefined, (upTo) => {
      told.push(upTo);
      if (inGet?.()) toldDuringGet.push(upTo);
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    return { path, told, toldDuringGet, error: result };
  }

  it('writes the span at its offsets, range after range, from a store that returns the bytes', async () => {
    const { store, gets } = fakeStore('bytes');
    const { path, told, error } = await download(store);
    expect(error).toBeUndefined();
    expect(gets).toEqual([
      { offset: start, length: MiB4 },
      { offset: start + MiB4, length: MiB4 },
      { offset: start + 2 * MiB4, length: end - start - 2 * MiB4 },
    ]);
    expect(told).toEqual([start + MiB4, start + 2 * MiB4, end]);
    expect(readFileSync(path).subarray(start).equals(pack.subarray(start, end))).toBe(true);
  });

  it('writes what a network store hands over as it arrives, again from the start after a retry', async () => {
    let inside = false;
    const { store } = fakeStore('sink', { breakFirst: true });
    const get = store.get.bind(store);
    store.get = async (...a) => {
      inside = true;
      try {
        return await get(...a);
      } finally {
        inside = false;
      }
    };
    const { path, told, toldDuringGet, error } = await download(store, () => inside);
    expect(error).toBeUndefined();
    expect(readFileSync(path).subarray(start).equals(pack.subarray(start, end))).toBe(true);
    // told while the bytes arrive, in 64 KiB steps, never twice and never backwards (the retry started over)
    expect(toldDuringGet.length).toBeGreaterThan(100);
    expect(told.at(-1)).toBe(end);
    for (let i = 1; i < told.length; i++) expect(told[i]).toBeGreaterThan(told[i - 1]!);
    expect(told[0]).toBe(start + 65_536);
  });

  it("fails with the store's error, having told only what is in the file", async () => {
    const failAt = start + MiB4 + 5 * 65_536;
    const { store } = fakeStore('sink', { failAt });
    const { path, told, error } = await download(store);
    expect(error).toMatchObject({ code: 'NETWORK' });
    expect(told.at(-1)).toBe(failAt);
    expect(readFileSync(path).subarray(start, failAt).equals(pack.subarray(start, failAt))).toBe(true);
  });
});
