/**
 * Legal holds are kept per snapshot (holds/ records) and objects are shared between snapshots (dedup):
 * lifting one snapshot's hold releases only what no other held snapshot needs, a new catalog learns the
 * holds from the repository, and a hold placed before hold records existed still counts. On the in-memory
 * Object Lock model (versions, legal holds; a held version cannot be deleted).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backup } from '../../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../../src-main/engine/catalog/catalog.ts';
import { FakeClock } from '../../../src-main/engine/clock.ts';
import { snapshotClosure } from '../../../src-main/engine/locks/closure.ts';
import { heldSnapshots, holdSnapshot, verifyLocks } from '../../../src-main/engine/locks/verify-locks.ts';
import { objectNames, type SnapshotManifest } from '../../../src-main/engine/repo/format.ts';
import { Repository } from '../../../src-main/engine/repo/repository.ts';
import { MemoryStore } from '../../../src-main/engine/storage/memory.ts';
import { PASSWORD, tempDir } from '../helpers/repo.ts';
import { content, HOUR, initLocked } from '../retention/helpers.ts';

const dirs: string[] = [];
const repos: Repository[] = [];
afterAll(() => {
  for (const r of repos) r.catalog.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function open(store: MemoryStore, clock: FakeClock): Promise<Repository> {
  const r = await Repository.open(store, PASSWORD, Catalog.open(':memory:', { clock }), { clock });
  repos.push(r);
  return r;
}

/** Two snapshots of one source that share a big file (so a pack, an index, the config and the keys). */
async function twoSnapshots(): Promise<{
  store: MemoryStore;
  clock: FakeClock;
  repo: Repository;
  s1: SnapshotManifest;
  s2: SnapshotManifest;
  c1: string[];
  c2: string[];
}> {
  const dir = tempDir('holds');
  dirs.push(dir);
  const clock = new FakeClock(Date.UTC(2025, 2, 3, 9));
  const store = new MemoryStore({ clock });
  await initLocked(store, 1, 1);
  const repo = await open(store, clock);
  const src = join(dir, 'x');
  mkdirSync(src);
  writeFileSync(join(src, 'shared.bin'), content(1, 300 * 1024));
  const s1 = await backup(repo, { paths: [src], source: 'x', readers: 1 });
  clock.advance(HOUR);
  writeFileSync(join(src, 'two.bin'), content(2, 200 * 1024));
  const s2 = await backup(repo, { paths: [src], source: 'x', readers: 1 });
  const objects = async (m: SnapshotManifest): Promise<string[]> => [
    ...(await snapshotClosure(repo, m)),
    objectNames.snapshot(m.id),
  ];
  return { store, clock, repo, s1, s2, c1: await objects(s1), c2: await objects(s2) };
}

async function holdOf(store: MemoryStore, names: readonly string[]): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  for (const n of names) out.set(n, (await store.head(n)).legalHold === true);
  return out;
}

describe('legal holds are counted per snapshot', () => {
  it('lifting one held snapshot keeps what another held snapshot needs; a new catalog learns the holds', async () => {
    const { store, clock, repo, s1, s2, c1, c2 } = await twoSnapshots();
    const shared = c1.filter((n) => c2.includes(n));
    const only1 = c1.filter((n) => !c2.includes(n));
    // the setup is what the test is about: a data pack both need, and objects only the first needs
    expect(shared.filter((n) => n.startsWith('packs/')).length).toBeGreaterThanOrEqual(1);
    expect(shared).toContain(objectNames.config);
    expect(only1).toContain(objectNames.snapshot(s1.id));
    expect(only1.some((n) => n.startsWith('packs/'))).toBe(true); // its own tree pack

    const on1 = await holdSnapshot(repo, s1.id, true);
    const on2 = await holdSnapshot(repo, s2.id, true);
    expect(on1).toMatchObject({ snapshot: s1.id, held: true, objects: c1.length, released: 0 });
    expect(on2.objects).toBe(c2.length);
    expect((await heldSnapshots(repo)).sort()).toEqual([s1.id, s2.id].sort());

    // Lifting the first: its own objects are released, the shared pack and all of the second's stay held.
    const off1 = await holdSnapshot(repo, s1.id, false);
    expect(off1).toEqual({
      snapshot: s1.id,
      held: false,
      objects: c1.length,
      released: only1.length,
      keptHeld: shared.length,
      keptFor: [s2.id],
    });
    for (const [n, held] of await holdOf(store, c2)) expect(held, n).toBe(true);
    for (const [n, held] of await holdOf(store, only1)) expect(held, n).toBe(false);
    const report = await verifyLocks(repo);
    expect(report.snapshots.find((s) => s.id === s2.id)?.held).toBe(true);
    expect(report.snapshots.find((s) => s.id === s1.id)?.held).toBe(false);
    expect(await heldSnapshots(repo)).toEqual([s2.id]);

    // Another computer (a new, empty catalog) learns the holds from the repository's records...
    const other = await open(store, clock);
    expect(other.catalog.snapshotHolds(other.rid).size).toBe(0);
    expect(await heldSnapshots(other)).toEqual([s2.id]);
    // ... so lifting the first again from there still keeps the second's objects held.
    const again = await holdSnapshot(other, s1.id, false);
    expect(again).toMatchObject({ keptHeld: shared.length, keptFor: [s2.id] });
    for (const [n, held] of await holdOf(store, c2)) expect(held, n).toBe(true);

    // Lifting the second (from the other computer) releases everything.
    const off2 = await holdSnapshot(other, s2.id, false);
    expect(off2).toMatchObject({ held: false, released: c2.length, keptHeld: 0, keptFor: [] });
    for (const [n, held] of await holdOf(store, [...new Set([...c1, ...c2])])) expect(held, n).toBe(false);
    expect(await heldSnapshots(repo)).toEqual([]);
    const after = await verifyLocks(other);
    expect(after.snapshots.every((s) => !s.held)).toBe(true);
    // every change is a sealed, write-once record in the repository: 2 placed, 3 lifted
    const records: string[] = [];
    for await (const o of store.list('holds/')) records.push(o.name);
    expect(records.length).toBe(5);
  });

  it('the latest record wins within one millisecond, and a hold placed without a record still counts', async () => {
    const { store, repo, s1, s2, c1, c2 } = await twoSnapshots();
    const shared = c1.filter((n) => c2.includes(n));
    // The clock does not move: placed, lifted and placed again at the same server time.
    await holdSnapshot(repo, s1.id, true);
    await holdSnapshot(repo, s1.id, false);
    await holdSnapshot(repo, s1.id, true);
    expect(await heldSnapshots(repo)).toEqual([s1.id]);

    // The second was held by a Bulwark that wrote no hold records: only its objects say so.
    for (const n of c2) await store.setLegalHold(n, true);
    const off1 = await holdSnapshot(repo, s1.id, false);
    expect(off1).toMatchObject({ keptHeld: shared.length, keptFor: [s2.id] });
    for (const [n, held] of await holdOf(store, c2)) expect(held, n).toBe(true);
  });
});
