/**
 * A prune and a backup on two computers sharing one folder (no server locks): the prune's deletes and the
 * backup's check-then-commit exclude each other through the folder's commit lease, in both orders. Each
 * test forces the interleaving that used to lose data: the backup checked that a reused, marked pack is
 * there, then the prune deleted it, then the backup committed a snapshot that needs it.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backup } from '../../../src-main/engine/backup/backup.ts';
import { FakeClock } from '../../../src-main/engine/clock.ts';
import { rebuildCatalog } from '../../../src-main/engine/ops/rebuild.ts';
import { restoreSnapshot } from '../../../src-main/engine/ops/restore.ts';
import { verifyRepository } from '../../../src-main/engine/ops/verify.ts';
import type { SnapshotManifest } from '../../../src-main/engine/repo/format.ts';
import { initRepository, type Repository } from '../../../src-main/engine/repo/repository.ts';
import { forget } from '../../../src-main/engine/retention/forget.ts';
import { setRetentionPolicy } from '../../../src-main/engine/retention/policies.ts';
import { prune, type PruneResult } from '../../../src-main/engine/retention/prune.ts';
import { FsStore } from '../../../src-main/engine/storage/fs.ts';
import type { BlobStore, PutBody, PutOptions, PutResult } from '../../../src-main/engine/storage/types.ts';
import { PASSWORD, TEST_KDF, tempDir } from '../helpers/repo.ts';
import { content, DAY, HOUR, openRepo } from './helpers.ts';

const dirs: string[] = [];
const repos: Repository[] = [];
afterAll(() => {
  for (const r of repos) r.catalog.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Hook = () => Promise<void>;

/** The same store, running a hook (once, when armed) before a put or a delete of a name with a prefix. */
function hooked(store: BlobStore): {
  store: BlobStore;
  onPut(p: string, h: Hook): void;
  onDelete(p: string, h: Hook): void;
} {
  const puts: [string, Hook][] = [];
  const deletes: [string, Hook][] = [];
  const fire = async (list: [string, Hook][], name: string): Promise<void> => {
    const i = list.findIndex(([p]) => name.startsWith(p));
    if (i < 0) return;
    const [[, h]] = list.splice(i, 1) as [[string, Hook]];
    await h();
  };
  const wrapped = Object.create(store) as BlobStore;
  wrapped.put = async (name: string, body: PutBody, opts?: PutOptions): Promise<PutResult> => {
    await fire(puts, name);
    return store.put(name, body, opts);
  };
  wrapped.delete = async (name: string): Promise<void> => {
    await fire(deletes, name);
    return store.delete(name);
  };
  return {
    store: wrapped,
    onPut: (p, h) => void puts.push([p, h]),
    onDelete: (p, h) => void deletes.push([p, h]),
  };
}

function source(dir: string, name: string, files: Record<string, Buffer | string>): string {
  const p = join(dir, name);
  rmSync(p, { recursive: true, force: true });
  mkdirSync(p, { recursive: true });
  for (const [f, data] of Object.entries(files)) writeFileSync(join(p, f), data);
  return p;
}

async function restoresAs(
  repo: Repository,
  id: string,
  dir: string,
  files: Record<string, Buffer | string>,
): Promise<void> {
  const out = join(dir, `restore-${id}-${Math.random().toString(36).slice(2)}`);
  const r = await restoreSnapshot(repo, { snapshot: id, target: out });
  expect(r.errors).toEqual([]);
  for (const [f, data] of Object.entries(files))
    expect(readFileSync(join(out, f)).equals(Buffer.from(data)), f).toBe(true);
}

/**
 * Computer A backs up a big file, then a snapshot without it, forgets the first and prunes once: the pack
 * holding the file is marked. Computer B (its catalog synced, so it knows that pack) is ready to back up
 * the same file from another folder.
 */
async function setup(): Promise<{
  dir: string;
  clock: FakeClock;
  store: FsStore;
  a: Repository;
  aHooks: ReturnType<typeof hooked>;
  b: Repository;
  bHooks: ReturnType<typeof hooked>;
  shared: Buffer;
  s2: SnapshotManifest;
  marked: string[];
}> {
  const dir = tempDir('prune-race');
  dirs.push(dir);
  const clock = new FakeClock(Date.UTC(2025, 2, 3, 9));
  const store = new FsStore({ root: join(dir, 'repo'), clock });
  await initRepository(store, PASSWORD, { kdf: TEST_KDF });
  const aHooks = hooked(store);
  const a = await openRepo(aHooks.store, join(dir, 'a.db'), clock);
  repos.push(a);
  const shared = content(7, 300 * 1024);
  await backup(a, {
    paths: [source(dir, 'x', { 'shared.bin': shared, 'x.txt': 'one' })],
    source: 'x',
    readers: 1,
  });
  clock.advance(HOUR);
  const s2 = await backup(a, { paths: [source(dir, 'x', { 'x.txt': 'two' })], source: 'x', readers: 1 });
  await setRetentionPolicy(a, 'x', {
    keepLast: 1,
    lockDays: { daily: 1, weekly: 1, monthly: 1, yearly: 1 },
    timeZone: 'UTC',
  });
  clock.advance(5 * DAY);
  expect((await forget(a)).forgotten).toBe(1);
  const p1 = await prune(a);
  expect(p1.deleted).toEqual([]);
  expect(p1.marked.length).toBeGreaterThanOrEqual(2); // the data pack with shared.bin and a tree pack
  clock.advance(2 * HOUR);
  const bHooks = hooked(store);
  const b = await openRepo(bHooks.store, join(dir, 'b.db'), clock);
  repos.push(b);
  await b.syncIndexes();
  return { dir, clock, store, a, aHooks, b, bHooks, shared, s2, marked: p1.marked };
}

/** Every snapshot restores, from both computers and from a catalog rebuilt from the folder. */
async function allRestore(t: Awaited<ReturnType<typeof setup>>, sy: SnapshotManifest): Promise<void> {
  await restoresAs(t.b, sy.id, t.dir, { 'y/shared.bin': t.shared, 'y/y.txt': 'why' });
  await t.a.syncIndexes();
  await t.a.syncSnapshots();
  await restoresAs(t.a, sy.id, t.dir, { 'y/shared.bin': t.shared });
  await restoresAs(t.a, t.s2.id, t.dir, { 'x/x.txt': 'two' });
  const c = await openRepo(t.store, join(t.dir, 'c.db'), t.clock);
  repos.push(c);
  await rebuildCatalog(c);
  await restoresAs(c, sy.id, t.dir, { 'y/shared.bin': t.shared });
  expect((await verifyRepository(c)).problems).toEqual([]);
}

describe('prune and backup on one folder from two computers', () => {
  it("a prune started between a backup's pack check and its commit waits for the commit", async () => {
    const t = await setup();
    // B has checked its reused, marked packs and is about to write its snapshot: A's prune starts now.
    let pruneRun: Promise<PruneResult> | undefined;
    let waited = false;
    t.bHooks.onPut('snapshots/', async () => {
      let blocked!: () => void;
      const waiting = new Promise<void>((r) => (blocked = r));
      pruneRun = prune(t.a, {
        onWait: () => {
          waited = true;
          blocked();
        },
      });
      // the prune runs until it finishes (it deletes the pack B reuses) or waits for B's commit lease
      await Promise.race([pruneRun, waiting]);
    });
    const y = source(t.dir, 'y', { 'shared.bin': t.shared, 'y.txt': 'why' });
    const sy = await backup(t.b, { paths: [y], source: 'y', readers: 1 });
    expect(sy.stats.bytesAdded).toBeLessThan(300 * 1024); // it reused the marked pack
    const p2 = await pruneRun!;
    await allRestore(t, sy);
    // the prune waited for B's commit and saw its snapshot: the pack is needed again, only the old tree pack went
    expect(waited).toBe(true);
    expect(p2.unmarked.length).toBeGreaterThanOrEqual(1);
    expect(p2.deleted.length).toBe(t.marked.length - p2.unmarked.length);
  });

  it('a backup that reaches its commit while a prune deletes waits, then stores the pruned data again', async () => {
    const t = await setup();
    let backupRun: Promise<SnapshotManifest> | undefined;
    let committing!: () => void;
    const commitStarted = new Promise<void>((r) => (committing = r));
    t.bHooks.onPut('snapshots/', async () => committing());
    // A's prune is about to delete its first pack: B backs up now, up to its commit (or 2 s, if it waits).
    t.aHooks.onDelete('packs/', async () => {
      const y = source(t.dir, 'y', { 'shared.bin': t.shared, 'y.txt': 'why' });
      backupRun = backup(t.b, { paths: [y], source: 'y', readers: 1 });
      backupRun.catch(() => undefined); // awaited below
      await Promise.race([commitStarted, new Promise((r) => setTimeout(r, 2000))]);
    });
    const p2 = await prune(t.a);
    expect(p2.deleted.length).toBe(t.marked.length);
    const sy = await backupRun!;
    await allRestore(t, sy);
    // it noticed, and stored the blobs again: they are in the repository, not only in the deleted pack
    expect(sy.stats.bytesAdded).toBeGreaterThan(300 * 1024);
  });
});
