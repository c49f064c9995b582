import { chmodSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../../src-main/engine/backup/backup.ts';
import { fileVersions, findFiles } from '../../../src-main/engine/history/query.ts';
import { historyBuilt, indexSnapshot, syncHistory } from '../../../src-main/engine/history/sync.ts';
import { rebuildCatalog } from '../../../src-main/engine/ops/rebuild.ts';
import { restoreSnapshot } from '../../../src-main/engine/ops/restore.ts';
import { findNode } from '../../../src-main/engine/ops/walk.ts';
import { forget } from '../../../src-main/engine/retention/forget.ts';
import { setRetentionPolicy } from '../../../src-main/engine/retention/policies.ts';
import type { SnapshotManifest } from '../../../src-main/engine/repo/format.ts';
import { fsPath } from '../../../src-main/engine/util/fs-names.ts';
import { bruteForce, dumpIndex, makeEnv, type Env, type Row } from './helpers.ts';

// The file-history index (engine/history) against real backups of a real folder into a real repository.

const DAY = 86_400_000;
const envs: Env[] = [];
afterEach(() => {
  while (envs.length) envs.pop()?.cleanup();
});

async function env(tag: string): Promise<Env> {
  const e = await makeEnv(tag);
  envs.push(e);
  return e;
}

/**
 * One backup of `folder` (relative to the env) a day after the previous one, taken into the index after it
 * as the service does (the backup itself leaves the index alone).
 */
async function run(e: Env, folder = 'src', source = 'office'): Promise<SnapshotManifest> {
  e.clock.advance(DAY);
  const m = await backup(e.repo, { paths: [join(e.dir, folder)], source, readers: 2 });
  await indexSnapshot(e.repo, m);
  expect(e.repo.warnings).toEqual([]);
  return m;
}

const LATIN1 = 'caf\udce9.txt'; // the bytes "caf\xe9.txt": not UTF-8

/** A week of an office folder: edits, a touch, a delete, a re-create, a folder renamed, a file ↔ folder swap. */
async function history(e: Env): Promise<SnapshotManifest[]> {
  e.write({
    'src/docs/a.txt': 'alpha 1',
    'src/docs/b.txt': 'beta',
    'src/docs/sub/c.txt': 'gamma',
    'src/docs/sub/deep/d.txt': 'delta',
    'src/photos/p1.jpg': 'jpeg one',
    'src/Top.TXT': 'top',
    [`src/docs/${LATIN1}`]: 'latin one',
    'src/swap': 'a file first',
    'other/notes.txt': 'other source',
  });
  const snaps = [await run(e)];
  await run(e, 'other', 'home'); // a second source in the same repository
  e.write({ 'src/docs/a.txt': 'alpha 2 (edited)', [`src/docs/${LATIN1}`]: 'latin two' });
  utimesSync(join(e.dir, 'src/docs/b.txt'), new Date(2030, 0, 1), new Date(2030, 0, 1)); // touched only
  snaps.push(await run(e));
  rmSync(join(e.dir, 'src/docs/sub/c.txt'));
  rmSync(join(e.dir, 'src/swap'));
  e.write({ 'src/swap/inside.txt': 'now a folder' });
  snaps.push(await run(e));
  e.write({ 'src/docs/sub/c.txt': 'gamma' }); // re-created with the same bytes: a new version row
  snaps.push(await run(e));
  renameSync(join(e.dir, 'src/docs/sub'), join(e.dir, 'src/docs/moved'));
  snaps.push(await run(e));
  rmSync(join(e.dir, 'src/swap'), { recursive: true });
  e.write({ 'src/swap': 'a file again' });
  snaps.push(await run(e));
  return snaps;
}

describe('file-history index over a week of backups', () => {
  let e: Env;
  beforeAll(async () => {
    e = await makeEnv('hist');
    await history(e);
  });
  afterAll(() => e?.cleanup());

  it('matches a brute-force walk of every snapshot; an unchanged backup adds nothing', async () => {
    const rows = dumpIndex(e.repo);
    expect(rows).toEqual(await bruteForce(e.repo));
    // spot checks of what the walk means
    const of = (path: string) => rows.filter((r) => r.path === path);
    expect(of('src/docs/a.txt')).toHaveLength(2);
    expect(of('src/docs/b.txt')).toHaveLength(1); // touched, same content: one version
    expect(of('src/docs/sub/c.txt')).toHaveLength(2); // deleted, re-created
    expect(of('src/docs/moved/deep/d.txt')).toHaveLength(1);
    expect(of('src/docs/sub/deep/d.txt')[0]?.ended).not.toBeNull();
    expect(of(`src/docs/${LATIN1}`)).toHaveLength(2);
    expect(of('src/swap')).toHaveLength(2);
    expect(of('src/swap/inside.txt')).toHaveLength(1);
    expect(of('notes.txt').length + of('other/notes.txt').length).toBe(1);

    const before = rows.length;
    const tail = await run(e);
    expect(dumpIndex(e.repo)).toHaveLength(before);
    expect(dumpIndex(e.repo)).toEqual(await bruteForce(e.repo));
    expect(tail.stats.filesChanged + tail.stats.filesNew).toBe(0);
  });

  it('find: substring and glob, case-insensitive, names that are not UTF-8, deleted files, limit', async () => {
    const paths = async (q: string, opts = {}) =>
      (await findFiles(e.repo, q, opts)).files.map((f) => `${f.source}:${f.path}`);
    expect(await paths('A.TXT')).toEqual(['office:src/docs/a.txt']);
    expect(await paths('top.txt')).toEqual(['office:src/Top.TXT']);
    expect(await paths('DOCS/')).toEqual([
      'office:src/docs/a.txt',
      'office:src/docs/b.txt',
      `office:src/docs/${LATIN1}`,
      'office:src/docs/moved/c.txt',
      'office:src/docs/moved/deep/d.txt',
      'office:src/docs/sub/c.txt',
      'office:src/docs/sub/deep/d.txt',
    ]);
    // glob on the name; with a slash on the end of the path at a folder boundary
    expect(await paths('*.TXT')).toHaveLength(10);
    expect(await paths('?.txt')).toHaveLength(6);
    expect(await paths('[cd].txt')).toEqual([
      'office:src/docs/moved/c.txt',
      'office:src/docs/moved/deep/d.txt',
      'office:src/docs/sub/c.txt',
      'office:src/docs/sub/deep/d.txt',
    ]);
    expect(await paths('[!cd].txt')).toEqual(['office:src/docs/a.txt', 'office:src/docs/b.txt']);
    expect(await paths('sub/*.txt')).toEqual(['office:src/docs/sub/c.txt']);
    expect(await paths('sub/**.txt')).toEqual([
      'office:src/docs/sub/c.txt',
      'office:src/docs/sub/deep/d.txt',
    ]);
    expect(await paths('*.jpg')).toEqual(['office:src/photos/p1.jpg']);
    expect(await paths('*.jp')).toEqual([]);
    // a name that is not UTF-8: as the terminal shows it (\xe9) and as JSON carries it (\udce9)
    expect(await paths('caf\\xe9')).toEqual([`office:src/docs/${LATIN1}`]);
    expect(await paths('CAF\udce9.TXT')).toEqual([`office:src/docs/${LATIN1}`]);
    expect(await paths('caf?.txt')).toEqual([]); // one byte escaped is four characters of search text
    // the other source, and only one source
    expect(await paths('notes')).toEqual(['home:other/notes.txt']);
    expect(await paths('notes', { sources: ['office'] })).toEqual([]);
    // deleted files, and versions newest first with the snapshot that holds them
    const { files } = await findFiles(e.repo, 'c.txt');
    const sub = files.find((f) => f.path === 'src/docs/sub/c.txt')!;
    expect(sub.deleted).toBe(true);
    expect(sub.versions.map((v) => v.endedBy)).toEqual(['deleted', 'deleted']);
    expect(sub.originalPath).toBe(join(e.dir, 'src/docs/sub/c.txt'));
    expect(sub.versions[0]!.firstSeen > sub.versions[1]!.firstSeen).toBe(true);
    const moved = files.find((f) => f.path === 'src/docs/moved/c.txt')!;
    expect(moved.deleted).toBe(false);
    expect(moved.versions[0]?.endedBy).toBeUndefined();
    const limited = await findFiles(e.repo, '.txt', { limit: 3 });
    expect(limited.files).toHaveLength(3);
    expect(limited.truncated).toBe(true);
    expect((await findFiles(e.repo, 'notes')).truncated).toBe(false);
  });

  it('versions: oldest first, with snapshot ids restore accepts (the bytes match)', async () => {
    const versions = await fileVersions(e.repo, 'src/docs/a.txt');
    expect(versions.map((v) => v.size)).toEqual([7, 16]);
    expect(versions[0]).toMatchObject({ endedBy: 'changed', path: 'src/docs/a.txt', source: 'office' });
    expect(versions[0]!.firstSeen < versions[1]!.firstSeen).toBe(true);
    expect(versions[1]!.endedBy).toBeUndefined();
    for (const [i, v] of versions.entries()) {
      const out = join(e.dir, `restored-${i}`);
      const r = await restoreSnapshot(e.repo, { snapshot: v.snapshotId, subPath: v.path, target: out });
      expect(r.errors).toEqual([]);
      expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe(['alpha 1', 'alpha 2 (edited)'][i]);
    }
    // the same file by where it was on disk, and a name that is not UTF-8 as the terminal shows it
    expect(await fileVersions(e.repo, join(e.dir, 'src/docs/a.txt'))).toEqual(versions);
    const latin = await fileVersions(e.repo, 'src/docs/caf\\xe9.txt');
    expect(latin.map((v) => v.size)).toEqual([9, 9]);
    const out = join(e.dir, 'restored-latin');
    await restoreSnapshot(e.repo, { snapshot: latin[0]!.snapshotId, subPath: latin[0]!.path, target: out });
    expect(readFileSync(fsPath(join(out, LATIN1)), 'utf8')).toBe('latin one');
    expect(await fileVersions(e.repo, 'src/docs')).toEqual([]); // a folder has no versions
    expect(await fileVersions(e.repo, 'src/nothing.txt')).toEqual([]);
  });
  it('rebuild --rebuild-catalog gives the same index as the incremental path', async () => {
    const incremental = dumpIndex(e.repo);
    const r = await rebuildCatalog(e.repo);
    expect(r.damaged).toEqual([]);
    expect(historyBuilt(e.repo)).toBe(true);
    expect(dumpIndex(e.repo)).toEqual(incremental);
    // and on a new computer: an empty catalog, then the rebuild
    rmSync(e.catalogPath);
    for (const s of ['-wal', '-shm']) rmSync(e.catalogPath + s, { force: true });
    await e.reopen();
    await rebuildCatalog(e.repo);
    expect(dumpIndex(e.repo)).toEqual(incremental);
  });
});

describe('file-history index: forget and older catalogs', () => {
  it('forget removes the versions only forgotten snapshots held and closes the ranges over the gap', async () => {
    const e = await env('hist-forget');
    e.write({ 'src/keep.txt': 'kept all along', 'src/f.txt': 'one' });
    const s1 = await run(e); // day 1
    e.write({ 'src/f.txt': 'two', 'src/only-in-s2.txt': 'brief' });
    e.clock.advance(-DAY / 24);
    const s2 = await run(e); // a day later, an hour earlier: the same calendar day (UTC) as s3 below
    rmSync(join(e.dir, 'src/only-in-s2.txt'));
    e.write({ 'src/f.txt': 'one' }); // back to the content of s1
    e.clock.advance(-DAY / 2);
    const s3 = await run(e); // 12 hours after s2
    e.write({ 'src/f.txt': 'three' });
    const s4 = await run(e);
    expect(dumpIndex(e.repo)).toEqual(await bruteForce(e.repo));
    const chain = [s1, s2, s3, s4].map((s) => s.id);
    const ranges = (rows: Row[], path: string) =>
      rows
        .filter((r) => r.path === path)
        .sort((a, b) => chain.indexOf(a.first) - chain.indexOf(b.first))
        .map((r) => [r.first, r.ended]);
    expect(ranges(dumpIndex(e.repo), 'src/f.txt')).toEqual([
      [s1.id, s2.id],
      [s2.id, s3.id],
      [s3.id, s4.id],
      [s4.id, null],
    ]);

    // keep the last of each of the three newest days: s2 (the earlier of its day) goes
    const days = new Set([s1, s2, s3, s4].map((s) => s.time.slice(0, 10)));
    expect(days.size).toBe(3);
    await setRetentionPolicy(e.repo, 'office', {
      keepDaily: 3,
      lockDays: { daily: 1, weekly: 1, monthly: 1, yearly: 1 },
      timeZone: 'UTC',
    });
    e.clock.advance(5 * DAY);
    const r1 = await forget(e.repo);
    expect(r1.sources[0]?.forgotten.map((x) => x.id)).toEqual([s2.id]);
    expect(e.repo.warnings).toEqual([]);
    const after = dumpIndex(e.repo);
    expect(after).toEqual(await bruteForce(e.repo));
    // the versions of s2 are gone, and f.txt is one version from s1 up to s4 again (content "one")
    expect(after.some((r) => r.path === 'src/only-in-s2.txt')).toBe(false);
    expect(ranges(after, 'src/f.txt')).toEqual([
      [s1.id, s4.id],
      [s4.id, null],
    ]);
    const paths = e.repo.catalog.db
      .prepare('SELECT count(*) AS n FROM history_paths WHERE rid = ?')
      .get(e.repo.rid) as { n: number };
    expect(paths.n).toBe(2); // only-in-s2.txt's path went with its last version

    // keep the last two days: s1 (the first) goes; versions that began there begin at s3
    await setRetentionPolicy(e.repo, 'office', {
      keepDaily: 2,
      lockDays: { daily: 1, weekly: 1, monthly: 1, yearly: 1 },
      timeZone: 'UTC',
    });
    e.clock.advance(DAY);
    const r2 = await forget(e.repo);
    expect(r2.sources[0]?.forgotten.map((x) => x.id)).toEqual([s1.id]);
    const last = dumpIndex(e.repo);
    expect(last).toEqual(await bruteForce(e.repo));
    expect(last.filter((r) => r.path === 'src/keep.txt').map((r) => r.first)).toEqual([s3.id]);

    // and what forget left is what a rebuild from the repository gives
    await rebuildCatalog(e.repo);
    expect(dumpIndex(e.repo)).toEqual(last);
  });

  it('a catalog from before the index: backups leave it alone, the first query builds it, then it is kept up', async () => {
    const e = await env('hist-lazy');
    e.write({ 'src/a.txt': 'one', 'src/b.txt': 'bee' });
    await run(e);
    e.write({ 'src/a.txt': 'two' });
    await run(e);
    e.repo.catalog.clearHistory(e.repo.rid); // as a catalog migrated from before the index
    e.write({ 'src/a.txt': 'three' });
    await run(e);
    expect(dumpIndex(e.repo)).toEqual([]); // not built in the middle of a backup
    const said: number[] = [];
    const found = await findFiles(e.repo, 'a.txt', { onBuild: (n) => said.push(n) });
    expect(said).toEqual([3]);
    expect(found.files[0]?.versions).toHaveLength(3);
    expect(dumpIndex(e.repo)).toEqual(await bruteForce(e.repo));
    e.write({ 'src/a.txt': 'four' });
    await run(e);
    expect(dumpIndex(e.repo)).toEqual(await bruteForce(e.repo)); // incremental from now on
    await findFiles(e.repo, 'a.txt', { onBuild: (n) => said.push(n) });
    expect(said).toEqual([3]);
    // a snapshot that disappears from the catalog (removed elsewhere) is taken out on the next sync
    const last = e.repo.catalog.latestSnapshot(e.repo.rid, 'office')!;
    e.repo.catalog.db.prepare('DELETE FROM snapshots WHERE rid = ? AND id = ?').run(e.repo.rid, last.id);
    const r = await syncHistory(e.repo);
    expect(r.removed).toBe(1);
    expect(dumpIndex(e.repo)).toEqual(await bruteForce(e.repo));
  });

  it('a backup alone leaves the index as it was; the next find adds every snapshot it lacks', async () => {
    const e = await env('hist-behind');
    e.write({ 'src/a.txt': 'one', 'src/keep.txt': 'kept' });
    await run(e); // indexed, as after a service backup
    const indexed = dumpIndex(e.repo);
    const plain = async (): Promise<void> => {
      e.clock.advance(DAY);
      await backup(e.repo, { paths: [join(e.dir, 'src')], source: 'office', readers: 2 });
    };
    e.write({ 'src/a.txt': 'two', 'src/new.txt': 'new' });
    await plain(); // as the CLI's backup
    rmSync(join(e.dir, 'src/new.txt'));
    e.write({ 'src/a.txt': 'three' });
    await plain();
    expect(dumpIndex(e.repo)).toEqual(indexed);
    const said: number[] = [];
    const found = await findFiles(e.repo, '.txt', { onBuild: (n) => said.push(n) });
    expect(said).toEqual([]); // built already: catching up says nothing
    expect(found.files.find((f) => f.path === 'src/a.txt')?.versions).toHaveLength(3);
    expect(found.files.find((f) => f.path === 'src/new.txt')?.versions).toHaveLength(1);
    expect(dumpIndex(e.repo)).toEqual(await bruteForce(e.repo));
  });

  it('indexSnapshot stops before its next snapshot when its signal fires; the next find catches up', async () => {
    const e = await env('hist-cancel');
    e.write({ 'src/a.txt': 'one' });
    await run(e);
    e.write({ 'src/a.txt': 'two' });
    e.clock.advance(DAY);
    const m = await backup(e.repo, { paths: [join(e.dir, 'src')], source: 'office', readers: 2 });
    const before = dumpIndex(e.repo);
    await expect(indexSnapshot(e.repo, m, AbortSignal.abort())).rejects.toMatchObject({ code: 'CANCELED' });
    expect(dumpIndex(e.repo)).toEqual(before);
    await findFiles(e.repo, 'a.txt');
    expect(dumpIndex(e.repo)).toEqual(await bruteForce(e.repo));
    expect(dumpIndex(e.repo)).not.toEqual(before);
  });

  it('a rebuild over a damaged folder listing names it once and indexes everything else', async () => {
    const e = await env('hist-damage');
    e.write({ 'src/ok/a.txt': 'a', 'src/bad/b.txt': 'b', 'src/bad/c.txt': 'c', 'src/same/d.txt': 'd' });
    const s1 = await run(e);
    e.write({ 'src/ok/a.txt': 'a2', 'src/bad/b.txt': 'b2' });
    const s2 = await run(e);
    await run(e); // shares every listing with s2
    // damage the listing of src/bad in s1 (s2 has another one) and of src/same (all three share it)
    const damage = async (folder: string): Promise<void> => {
      const node = await findNode(e.repo, s1.tree, folder);
      const tree = node.type === 'dir' ? node.subtree : undefined;
      const loc = tree ? e.repo.catalog.lookupBlob(e.repo.rid, tree) : undefined;
      if (!tree || !loc) throw new Error(`no listing for ${folder}`);
      const file = join(e.dir, 'repo', 'packs', loc.pack.slice(0, 2), loc.pack);
      chmodSync(file, 0o644);
      const bytes = readFileSync(file);
      bytes[loc.offset + 20] = bytes[loc.offset + 20]! ^ 0x5a;
      writeFileSync(file, bytes);
    };
    await damage('src/bad');
    await damage('src/same');
    rmSync(e.catalogPath);
    for (const x of ['-wal', '-shm']) rmSync(e.catalogPath + x, { force: true });
    await e.reopen(); // a new computer: every listing comes from the repository
    const r = await rebuildCatalog(e.repo);
    expect(r.damaged.filter((d) => d.path === 'src/bad').map((d) => d.snapshot)).toEqual([s1.id]);
    expect(r.damaged.filter((d) => d.path === 'src/same')).toHaveLength(1);
    const rows = dumpIndex(e.repo);
    // src/bad as s1 had it cannot be read: its files begin at s2 (compared with nothing known before);
    // src/same cannot be read in any snapshot: no versions
    expect(rows.map((x) => [x.path, x.first === s1.id ? 's1' : x.first === s2.id ? 's2' : '?'])).toEqual(
      expect.arrayContaining([
        ['src/bad/b.txt', 's2'],
        ['src/bad/c.txt', 's2'],
        ['src/ok/a.txt', 's1'],
        ['src/ok/a.txt', 's2'],
      ]),
    );
    expect(rows).toHaveLength(4);
    expect((await findFiles(e.repo, 'd.txt')).files).toEqual([]);
  });
});
