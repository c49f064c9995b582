/**
 * What a locked commit extends (locks/closure.ts commitClosure): when the catalog knows every pack and index
 * locked long enough, the commit checks only the config and the keys instead of walking the snapshot's
 * listings; whenever a lock falls short or is unknown, a pack no index lists, or the repository has more
 * packs than the snapshot has files and folders, it walks, and extends exactly what the snapshot needs. Either way every object a
 * snapshot needs stays locked at least as long as the snapshot (verify --locks agrees), on the in-memory
 * Object Lock model with a clock that moves.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backup } from '../../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../../src-main/engine/catalog/catalog.ts';
import { FakeClock } from '../../../src-main/engine/clock.ts';
import {
  commitClosure,
  snapshotClosure,
  type CommitClosure,
} from '../../../src-main/engine/locks/closure.ts';
import { isBulwarkError } from '../../../src-main/engine/errors.ts';
import { verifyLocks } from '../../../src-main/engine/locks/verify-locks.ts';
import { objectNames } from '../../../src-main/engine/repo/format.ts';
import { initRepository, Repository } from '../../../src-main/engine/repo/repository.ts';
import { MemoryStore } from '../../../src-main/engine/storage/memory.ts';
import { PASSWORD, TEST_KDF, tempDir } from '../helpers/repo.ts';

const DAY = 86_400_000;
const LOCK = { mode: 'COMPLIANCE' as const, days: 30, paddingDays: 5 };

let dir: string;
let clock: FakeClock;
let store: MemoryStore;
let repo: Repository;

function writeFiles(root: string, folders: number, tag: string): void {
  for (let d = 0; d < folders; d++) {
    mkdirSync(join(root, `d${d}`), { recursive: true });
    for (let f = 0; f < 20; f++) writeFileSync(join(root, `d${d}`, `f${f}`), `${tag} ${d}/${f}\n`);
  }
}

/** Runs `fn` and counts the listings it read (Repository.loadTree). */
async function treesRead<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const loads = vi.spyOn(repo, 'loadTree');
  try {
    const value = await fn();
    return [value, loads.mock.calls.length];
  } finally {
    loads.mockRestore();
  }
}

/** Runs a backup and counts the listings it read (a first backup reads no parent: only the commit would). */
async function backupCountingTrees(paths: string[], source: string) {
  const [m, loads] = await treesRead(() =>
    backup(repo, { paths, source, packTarget: 16 << 10, indexBlobs: 100 }),
  );
  return { m, loads };
}

/** Every object `snapshotClosure` names is locked on the server until the snapshot's retain-until. */
async function expectSnapshotLocked(id: string): Promise<void> {
  const m = repo.catalog.snapshot(repo.rid, id)!;
  const until = Date.parse(m.retainUntil!);
  for (const name of await snapshotClosure(repo, m)) {
    const head = await store.head(name);
    expect(head.retainUntil!.getTime(), name).toBeGreaterThanOrEqual(until);
  }
}

beforeAll(async () => {
  dir = tempDir('commit-closure');
  clock = new FakeClock(new Date('2026-03-01T09:00:00Z'));
  store = new MemoryStore({ clock });
  await initRepository(store, PASSWORD, { kdf: TEST_KDF, clock, lock: LOCK });
  repo = await Repository.open(store, PASSWORD, Catalog.open(':memory:'), { clock });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('commitClosure', () => {
  it('reads no listing when every pack and index is known locked long enough', async () => {
    const src = join(dir, 'a');
    writeFiles(src, 6, 'a');
    const { m, loads } = await backupCountingTrees([src], 'a');
    // the first backup has no parent: any listing read would be the commit's walk
    expect(loads).toBe(0);
    expect(m.stats.lockExtensions).toBe(0);
    await expectSnapshotLocked(m.id);

    const { catalog, rid } = repo;
    const needed = Date.parse(m.retainUntil!);
    const c = await commitClosure(repo, m, needed);
    const fixed: string[] = [objectNames.config];
    for await (const k of store.list('keys/')) fixed.push(k.name);
    expect(c.names.sort()).toEqual(fixed.sort());
    // every pack and index it leaves out is known locked until then; the earliest of them is reported
    const packs = catalog.packs(rid);
    expect(packs.length).toBeGreaterThan(1);
    const left = [
      ...packs.map((p) => objectNames.pack(p.id)),
      ...new Set(packs.map((p) => objectNames.index(p.indexId!))),
    ];
    const known = [...catalog.retention(rid, left).values()];
    expect(known.every((u) => u !== null && u >= needed)).toBe(true);
    expect(c.lockedUntil).toBe(Math.min(...(known as number[])));
    // the protection recorded is no later than any lock the snapshot's closure has on the server
    const prot = catalog.snapshotProtection(rid).get(m.id)!.protectedUntil!;
    expect(prot).toBeGreaterThanOrEqual(needed);
    for (const name of await snapshotClosure(repo, m))
      expect((await store.head(name)).retainUntil!.getTime()).toBeGreaterThanOrEqual(prot);
  });

  it('walks the snapshot when a lock falls short, and extends only what it needs', async () => {
    // 10 days on, the packs of 'a' (locked 30 + 5 days) fall short of a new snapshot's 30 days
    clock.advance(10 * DAY);
    const aLocks = new Map<string, number>();
    for (const p of repo.catalog.packs(repo.rid)) {
      const name = objectNames.pack(p.id);
      aLocks.set(name, (await store.head(name)).retainUntil!.getTime());
    }
    const src = join(dir, 'b');
    writeFiles(src, 3, 'b');
    const b = await backupCountingTrees([src], 'b');
    expect(b.loads).toBeGreaterThan(0);
    expect(b.m.stats.lockExtensions).toBeGreaterThan(0); // the config and the key fell short too
    await expectSnapshotLocked(b.m.id);
    // the packs of 'a', which 'b' does not need, kept their locks: no superset was extended
    for (const [name, until] of aLocks) expect((await store.head(name)).retainUntil!.getTime()).toBe(until);

    const a = await backup(repo, { paths: [join(dir, 'a')], source: 'a' });
    expect(a.stats.lockExtensions).toBeGreaterThanOrEqual(aLocks.size);
    await expectSnapshotLocked(a.id);
  });

  it('walks when the repository has more packs than the snapshot has files and folders', async () => {
    const m = repo.catalog.latestSnapshot(repo.rid, 'b')!;
    const needed = Date.parse(m.retainUntil!);
    const [all, none] = await treesRead(() => commitClosure(repo, m, needed));
    expect(none).toBe(0);
    expect(all.lockedUntil).toBeGreaterThanOrEqual(needed);
    const few = { ...m, stats: { ...m.stats, files: 0, dirs: 1 } };
    const [c, loads] = await treesRead(() => commitClosure(repo, few, needed));
    expect(loads).toBeGreaterThan(0);
    expect(c.names.sort()).toEqual((await snapshotClosure(repo, m)).sort());
    expect(c.lockedUntil).toBe(Number.POSITIVE_INFINITY);
  });

  it('walks when the catalog does not know a lock, and asks the server', async () => {
    const m = repo.catalog.latestSnapshot(repo.rid, 'b')!;
    const { catalog, rid } = repo;
    const pack = catalog.packs(rid)[0]!;
    catalog.db.prepare('DELETE FROM locks WHERE rid = ? AND name = ?').run(rid, objectNames.pack(pack.id));
    const [c, loads] = await treesRead(() => commitClosure(repo, m, Date.parse(m.retainUntil!)));
    expect(loads).toBeGreaterThan(0);
    expect(c.names.sort()).toEqual((await snapshotClosure(repo, m)).sort());
  });

  it('walks when a pack is listed by no index yet', async () => {
    const m = repo.catalog.latestSnapshot(repo.rid, 'b')!;
    const { catalog, rid } = repo;
    const pack = catalog.packs(rid)[0]!;
    const needs = (await snapshotClosure(repo, m)).includes(objectNames.pack(pack.id));
    const setIndex = catalog.db.prepare('UPDATE packs SET index_id = ? WHERE rid = ? AND id = ?');
    setIndex.run(null, rid, pack.id);
    try {
      const [got, loads] = await treesRead(() => commitClosure(repo, m, 0).catch((e: unknown) => e));
      expect(loads).toBeGreaterThan(0);
      // the walk names what the snapshot needs, and says so when a pack it needs is in no index
      if (needs) expect(isBulwarkError(got, 'REPO_DAMAGED')).toBe(true);
      else expect((got as CommitClosure).names).not.toContain(objectNames.pack(pack.id));
    } finally {
      setIndex.run(pack.indexId, rid, pack.id);
    }
  });

  it('leaves every snapshot locked as verify --locks checks it', async () => {
    const report = await verifyLocks(repo);
    expect(report.applicable).toBe(true);
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
