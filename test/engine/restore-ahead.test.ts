/**
 * A restore planned from the catalog alone while the key is derived (ops/restore-ahead.ts): the same plan
 * the repository would give; none when the catalog lacks a listing, when a file at the destination must be
 * compared (that needs the key) or when the catalog does not know the repository; and a plan made ahead
 * holds only while its reference still names its snapshot.
 */
import { cpSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/engine/backup/backup.ts';
import type { SnapshotManifest } from '../../src-main/engine/repo/format.ts';
import {
  AheadStop,
  CatalogPlanSource,
  planAhead,
  planStillHolds,
} from '../../src-main/engine/ops/restore-ahead.ts';
import {
  planRestore,
  type RestorePlan,
  type RestorePlanOptions,
} from '../../src-main/engine/ops/restore-plan.ts';
import { makeFsRepo, tempDirs, type TestRepo } from './helpers/repo.ts';

let t: TestRepo;
let src: string;
let first: SnapshotManifest;
const scratch = tempDirs();
const temp = scratch.temp;

beforeAll(async () => {
  t = await makeFsRepo('ahead');
  src = join(temp('ahead-src'), 'docs');
  for (const sub of ['a', 'a/b', 'c']) mkdirSync(join(src, sub), { recursive: true });
  for (const [rel, text] of [
    ['top.txt', 'top\n'],
    ['a/one.txt', 'one\n'],
    ['a/b/two.txt', 'two\n'],
    ['c/three.txt', 'three\n'],
  ] as const)
    writeFileSync(join(src, rel), text);
  first = await backup(t.repo, { paths: [src] });
});
afterAll(() => {
  t?.cleanup();
  scratch.removeAll();
});

const options = (target: string, snapshot = 'latest'): RestorePlanOptions => ({
  snapshot,
  paths: [''],
  destination: { kind: 'folder', path: target },
  layout: 'contents',
});
/** A plan without the moment it was made at (two plans of one restore differ only there). */
const sansTime = (p: RestorePlan | undefined): Omit<RestorePlan, 'plannedAt'> | undefined => {
  if (!p) return undefined;
  const { plannedAt: _, ...rest } = p;
  return rest;
};

describe('a restore planned ahead, from the catalog alone', () => {
  it('is the plan the repository gives, into a new folder and into an empty one', async () => {
    for (const target of [join(temp('ahead-new'), 'restored'), temp('ahead-empty')]) {
      const ahead = await planAhead(t.repo.catalog, t.repo.config.id, options(target));
      expect(ahead).toBeDefined();
      expect(ahead!.totals.create).toBe(4);
      expect(sansTime(ahead)).toEqual(sansTime(await planRestore(t.repo, options(target))));
    }
  });

  it('is not made when a listing is not in the catalog; the repository plans it (reading the pack)', async () => {
    const target = join(temp('ahead-missing'), 'restored');
    const rid = t.repo.rid;
    const docs = (await t.repo.loadTree(first.tree)).nodes.find((n) => n.name === 'docs')!.subtree!;
    const sub = (await t.repo.loadTree(docs)).nodes.find((n) => n.name === 'a')!.subtree!;
    const kept = t.repo.catalog.getTree(rid, sub)!;
    t.repo.catalog.db.prepare('DELETE FROM trees WHERE rid = ? AND id = ?').run(rid, Buffer.from(sub, 'hex'));
    try {
      if (t.repo.catalog.getTree(rid, sub)) throw new Error('the test did not remove the listing');
      await expect(new CatalogPlanSource(t.repo.catalog, rid).loadTree(sub)).rejects.toBeInstanceOf(
        AheadStop,
      );
      expect(await planAhead(t.repo.catalog, t.repo.config.id, options(target))).toBeUndefined();
      expect((await planRestore(t.repo, options(target))).totals.create).toBe(4);
    } finally {
      t.repo.catalog.putTree(rid, sub, kept);
    }
  });

  it('is not made when a file at the destination must be compared (that needs the key)', async () => {
    const target = temp('ahead-copy');
    cpSync(src, join(target, 'docs'), { recursive: true, preserveTimestamps: true });
    expect(await planAhead(t.repo.catalog, t.repo.config.id, options(target))).toBeUndefined();
    const plan = await planRestore(t.repo, options(target));
    expect(plan.totals).toMatchObject({ files: 4, identical: 4, conflicts: 0 });
  });

  it('is not made for a repository the catalog does not know, nor for a snapshot it does not hold', async () => {
    const target = join(temp('ahead-unknown'), 'restored');
    expect(await planAhead(t.repo.catalog, 'f'.repeat(64), options(target))).toBeUndefined();
    expect(await planAhead(t.repo.catalog, t.repo.config.id, options(target, 'abcdef12'))).toBeUndefined();
  });

  it('holds only while its reference still names its snapshot', async () => {
    const target = join(temp('ahead-holds'), 'restored');
    const ahead = (await planAhead(t.repo.catalog, t.repo.config.id, options(target)))!;
    expect(ahead.snapshotId).toBe(t.repo.resolveSnapshot('latest').id);
    const before = t.repo.catalog.snapshots(t.repo.rid);
    expect(planStillHolds(ahead, before, 'latest')).toBe(true);
    expect(planStillHolds(ahead, before, ahead.snapshotId.slice(0, 8))).toBe(true);
    // a newer snapshot (another computer's, found by the sync after the key): "latest" is another one now
    writeFileSync(join(src, 'top.txt'), 'top, changed\n');
    utimesSync(join(src, 'top.txt'), new Date(), new Date('2031-01-01T00:00:00Z'));
    const newer = await backup(t.repo, { paths: [src] });
    const after = t.repo.catalog.snapshots(t.repo.rid);
    expect(planStillHolds(ahead, after, 'latest')).toBe(false);
    expect(planStillHolds(ahead, after, ahead.snapshotId.slice(0, 8))).toBe(true);
    expect(planStillHolds(ahead, after, newer.id)).toBe(false);
    // its snapshot gone (forgotten elsewhere): it holds for nothing
    expect(
      planStillHolds(
        ahead,
        after.filter((s) => s.id !== ahead.snapshotId),
        ahead.snapshotId,
      ),
    ).toBe(false);
  });
});
