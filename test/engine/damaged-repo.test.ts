/**
 * Damaged repositories: nothing is lost silently (verify finds and records the damage, the next backup
 * stores the damaged parts again, restore/ls/rebuild skip only the damaged folder and name it), and verify
 * sees every kind of object, including a hash-chained audit log.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recordAudit } from '../../src-main/engine/audit/audit.ts';
import { backup } from '../../src-main/engine/backup/backup.ts';
import { Catalog, type BlobLocation } from '../../src-main/engine/catalog/catalog.ts';
import { listSnapshot } from '../../src-main/engine/ops/ls.ts';
import { rebuildCatalog } from '../../src-main/engine/ops/rebuild.ts';
import { restoreSnapshot } from '../../src-main/engine/ops/restore.ts';
import type { VerifyReport } from '../../src-main/engine/ops/types.ts';
import { verifyRepository } from '../../src-main/engine/ops/verify.ts';
import { findNode } from '../../src-main/engine/ops/walk.ts';
import { objectNames } from '../../src-main/engine/repo/format.ts';
import { putRecord, stamp } from '../../src-main/engine/repo/records.ts';
import { newObjectId, Repository } from '../../src-main/engine/repo/repository.ts';
import { setRetentionPolicy } from '../../src-main/engine/retention/policies.ts';
import { makeFsRepo, PASSWORD, tempDir, type TestRepo } from './helpers/repo.ts';

/** Flips one byte of a (read-only) repository file. */
function flipByte(file: string, at: number): void {
  chmodSync(file, 0o644);
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0x5a;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
  chmodSync(file, 0o444);
}

const packFile = (t: TestRepo, pack: string): string => join(t.dir, 'repo', 'packs', pack.slice(0, 2), pack);

/** Flips a byte inside a blob (found through the catalog); returns where the blob was. */
function damageBlob(t: TestRepo, repo: Repository, blob: string): BlobLocation {
  const loc = repo.catalog.lookupBlob(repo.rid, blob);
  if (!loc) throw new Error(`blob ${blob} not located`);
  flipByte(packFile(t, loc.pack), loc.offset + 20);
  return loc;
}

describe('damaged repositories', () => {
  let t: TestRepo | undefined;
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    t?.cleanup();
    t = undefined;
    for (const c of cleanups.splice(0)) c();
  });

  const dir = (tag: string): string => {
    const d = tempDir(tag);
    cleanups.push(() => rmSync(d, { recursive: true, force: true }));
    return d;
  };
  /** The repository as a new computer sees it: its own catalog, indexes and snapshots learned afresh. */
  const fresh = async (): Promise<Repository> => {
    const cat = Catalog.open(join(dir('fresh-home'), 'catalog.db'));
    cleanups.unshift(() => cat.close());
    const r = await Repository.open(t!.store, PASSWORD, cat);
    await r.syncIndexes();
    await r.syncSnapshots();
    return r;
  };

  /** src/{top.txt, Documents/{other.txt, 2024/{a.txt, b.bin}}} */
  const makeSource = (): { src: string; root: string } => {
    const src = dir('dmg-src');
    mkdirSync(join(src, 'Documents', '2024'), { recursive: true });
    writeFileSync(join(src, 'top.txt'), 'top\n');
    writeFileSync(join(src, 'Documents', 'other.txt'), 'other\n');
    writeFileSync(join(src, 'Documents', '2024', 'a.txt'), 'alpha\n');
    writeFileSync(join(src, 'Documents', '2024', 'b.bin'), randomBytes(30_000));
    return { src, root: basename(src) };
  };
  const treeOf = async (repo: Repository, rootTree: string, path: string): Promise<string> => {
    const n = await findNode(repo, rootTree, path);
    if (n.type !== 'dir' || !n.subtree) throw new Error(`${path} is no folder`);
    return n.subtree;
  };

  it('a damaged data blob: verify names the file, the next backup stores it again, the new snapshot is intact', async () => {
    t = await makeFsRepo('dmg-data');
    const src = dir('dmg-data-src');
    mkdirSync(join(src, 'Documents'));
    const big = randomBytes(5 << 20);
    writeFileSync(join(src, 'Documents', 'big.bin'), big);
    writeFileSync(join(src, 'Documents', 'note.txt'), 'note\n');
    const root = basename(src);
    const first = await backup(t.repo, { paths: [src] });
    const file = await findNode(t.repo, first.tree, `${root}/Documents/big.bin`);
    expect(file.type === 'file' && file.content && file.content.length).toBeGreaterThan(1);
    const blob = (file as { content: string[] }).content[1]!;
    const hit = damageBlob(t, t.repo, blob);

    const report = await verifyRepository(t.repo, { readData: true });
    expect(report.ok).toBe(false);
    const p = report.problems.find((x) => x.kind === 'damaged-pack');
    expect(p?.affected).toContain(`${first.id}:${root}/Documents/big.bin`);

    // The advice "run a new backup to store those files again" is true: the damaged blob is stored anew.
    const second = await backup(t.repo, { paths: [src] });
    expect(second.stats.bytesAdded).toBeGreaterThanOrEqual(hit.length);
    expect(t.repo.catalog.lookupBlob(t.repo.rid, blob)?.pack).not.toBe(hit.pack);
    const out = dir('dmg-data-out');
    const r = await restoreSnapshot(t.repo, { snapshot: second.id, target: out });
    expect(r.errors).toEqual([]);
    expect(readFileSync(join(out, root, 'Documents', 'big.bin')).equals(big)).toBe(true);

    // The damaged copy stays (write-once), but no file depends on it any more: verify is clean, and says so.
    const again = await verifyRepository(t.repo, { readData: true });
    expect(again.problems).toEqual([]);
    expect(again.ok).toBe(true);
    expect(again.notes?.join('\n')).toContain(`packs/${hit.pack.slice(0, 2)}/${hit.pack}`);

    // A new computer may learn the damaged copy first (index objects are read in listing order; forced
    // here): verify --read-data points it at the intact one.
    const other = await fresh();
    other.catalog.relocateBlob(other.rid, blob, hit);
    const otherReport = await verifyRepository(other, { readData: true });
    expect(otherReport.problems).toEqual([]);
    expect(other.catalog.lookupBlob(other.rid, blob)?.pack).not.toBe(hit.pack);
    const out2 = dir('dmg-data-out2');
    const r2 = await restoreSnapshot(other, { snapshot: 'latest', target: out2 });
    expect(r2.errors).toEqual([]);
    expect(readFileSync(join(out2, root, 'Documents', 'big.bin')).equals(big)).toBe(true);
  });

  it('a damaged tree blob: the next backup scans that folder as new and stores its listing again', async () => {
    t = await makeFsRepo('dmg-tree');
    const { src, root } = makeSource();
    const first = await backup(t.repo, { paths: [src] });
    const tree = await treeOf(t.repo, first.tree, `${root}/Documents/2024`);
    const hit = damageBlob(t, t.repo, tree);

    const report = await verifyRepository(t.repo, { readData: true });
    expect(report.ok).toBe(false);
    const affected = report.problems.flatMap((p) => p.affected ?? []);
    expect(affected).toContain(`${first.id}:${root}/Documents/2024`);

    const second = await backup(t.repo, { paths: [src] });
    expect(second.tree).toBe(first.tree); // nothing changed: the same listing, stored once more
    expect(second.stats.bytesAdded).toBeGreaterThanOrEqual(hit.length);
    expect(t.repo.catalog.lookupBlob(t.repo.rid, tree)?.pack).not.toBe(hit.pack);
    expect((await verifyRepository(t.repo, { readData: true })).problems).toEqual([]);

    const other = await fresh();
    other.catalog.relocateBlob(other.rid, tree, hit); // as if it learned the damaged copy first
    expect((await verifyRepository(other, { readData: true })).problems).toEqual([]);
    expect(other.catalog.lookupBlob(other.rid, tree)?.pack).not.toBe(hit.pack);
    const out = dir('dmg-tree-out');
    const r = await restoreSnapshot(other, { snapshot: second.id, target: out });
    expect(r.errors).toEqual([]);
    expect(readFileSync(join(out, root, 'Documents', '2024', 'a.txt'), 'utf8')).toBe('alpha\n');
    expect(
      readFileSync(join(out, root, 'Documents', '2024', 'b.bin')).equals(
        readFileSync(join(src, 'Documents', '2024', 'b.bin')),
      ),
    ).toBe(true);
  });

  it('one damaged tree: restore, ls and rebuild skip that folder and name it; verify names every snapshot', async () => {
    t = await makeFsRepo('dmg-block');
    const { src, root } = makeSource();
    const first = await backup(t.repo, { paths: [src] });
    const second = await backup(t.repo, { paths: [src] }); // unchanged: shares every tree with the first
    const tree = await treeOf(t.repo, first.tree, `${root}/Documents/2024`);
    damageBlob(t, t.repo, tree);
    const folder = `${root}/Documents/2024`;

    const repo = await fresh();
    const out = dir('dmg-block-out');
    const r = await restoreSnapshot(repo, { snapshot: 'latest', target: out });
    expect(r.errors).toEqual([
      {
        path: folder,
        message: expect.stringContaining(
          "this folder's listing is damaged in the repository; its files were not restored",
        ) as string,
      },
    ]);
    expect(r.files).toBe(2);
    expect(readFileSync(join(out, root, 'top.txt'), 'utf8')).toBe('top\n');
    expect(readFileSync(join(out, root, 'Documents', 'other.txt'), 'utf8')).toBe('other\n');
    expect(existsSync(join(out, root, 'Documents', '2024', 'a.txt'))).toBe(false);

    const entries = await listSnapshot(repo, 'latest');
    const paths = entries.map((e) => e.path);
    expect(paths).toContain(`${root}/top.txt`);
    expect(paths).toContain(`${root}/Documents/other.txt`);
    expect(paths.some((p) => p.startsWith(`${folder}/`))).toBe(false);
    expect(entries.find((e) => e.path === folder)?.damaged).toMatch(/listing is damaged/);
    // a path below the damaged folder: the error names the folder, not a blob
    await expect(listSnapshot(repo, 'latest', `${folder}/a.txt`)).rejects.toMatchObject({
      code: 'REPO_DAMAGED',
      message: expect.stringContaining(`${folder}: this folder's listing is damaged`) as string,
    });
    // the same for a restore of a path below it
    await expect(
      restoreSnapshot(repo, { snapshot: 'latest', subPath: `${folder}/a.txt`, target: dir('dmg-sub-out') }),
    ).rejects.toMatchObject({
      code: 'REPO_DAMAGED',
      message: expect.stringContaining(`${folder}: this folder's listing is damaged`) as string,
    });

    const v = await verifyRepository(repo);
    expect(v.ok).toBe(false);
    const treeProblem = v.problems.find((p) => p.affected?.includes(`${first.id}:${folder}`));
    expect(treeProblem?.affected).toContain(`${second.id}:${folder}`);

    // A rebuild on yet another computer finishes, lists what it could not read, and leaves a usable catalog.
    const other = await fresh();
    const rebuilt = await rebuildCatalog(other);
    expect(rebuilt.snapshots).toBe(2);
    expect(rebuilt.damaged.map((d) => d.path)).toContain(folder);
    expect((await listSnapshot(other, first.id)).map((e) => e.path)).toContain(`${root}/top.txt`);
  });

  it('a missing pack: verify records its blobs, the next backup stores them again', async () => {
    t = await makeFsRepo('dmg-missing');
    const { src, root } = makeSource();
    const first = await backup(t.repo, { paths: [src] });
    const file = await findNode(t.repo, first.tree, `${root}/Documents/2024/b.bin`);
    const blob = (file as { content: string[] }).content[0]!;
    const loc = t.repo.catalog.lookupBlob(t.repo.rid, blob)!;
    rmSync(packFile(t, loc.pack));
    const v = await verifyRepository(t.repo);
    expect(v.problems.find((p) => p.kind === 'missing-object')?.affected).toContain(
      `${first.id}:${root}/Documents/2024/b.bin`,
    );
    const second = await backup(t.repo, { paths: [src] });
    expect(second.stats.bytesAdded).toBeGreaterThanOrEqual(loc.length);
    const out = dir('dmg-missing-out');
    const r = await restoreSnapshot(t.repo, { snapshot: second.id, target: out });
    expect(r.errors).toEqual([]);
  });

  const problemObjects = (r: VerifyReport): string[] => r.problems.map((p) => p.object);

  it('verify --read-data reads known index objects again, with the existing and with a fresh catalog', async () => {
    t = await makeFsRepo('dmg-index');
    const { src } = makeSource();
    await backup(t.repo, { paths: [src] });
    const [index] = readdirSync(join(t.dir, 'repo', 'index'));
    flipByte(join(t.dir, 'repo', 'index', index!), 30);
    const mine = await verifyRepository(t.repo, { readData: true });
    expect(mine.problems.filter((p) => p.kind === 'damaged-index').map((p) => p.object)).toEqual([
      `index/${index}`,
    ]);
    const theirs = await verifyRepository(await fresh(), { readData: true });
    expect(problemObjects(theirs)).toContain(`index/${index}`);
  });

  it('a damaged index on a new computer: its packs are read from their own trailers, every file restores', async () => {
    t = await makeFsRepo('dmg-index-new');
    const { src, root } = makeSource();
    const snap = await backup(t.repo, { paths: [src] });
    const [index] = readdirSync(join(t.dir, 'repo', 'index'));
    flipByte(join(t.dir, 'repo', 'index', index!), 30);
    const theirs = await fresh();
    expect(theirs.damagedIndexes.has(index!)).toBe(true);
    expect(theirs.warnings.join('\n')).toMatch(
      /an index object is damaged: the contents of \d+ packs? were read/,
    );
    // the index is still named as damaged, but no file is reported lost
    const report = await verifyRepository(theirs, { readData: true });
    expect(problemObjects(report)).toContain(`index/${index}`);
    expect(report.problems.filter((p) => p.kind !== 'damaged-index')).toEqual([]);
    const out = dir('dmg-index-out');
    const r = await restoreSnapshot(theirs, { snapshot: snap.id, target: out });
    expect(r.errors).toEqual([]);
    expect(
      readFileSync(join(out, root, 'Documents', '2024', 'b.bin')).equals(
        readFileSync(join(src, 'Documents', '2024', 'b.bin')),
      ),
    ).toBe(true);
    expect(readFileSync(join(out, root, 'top.txt'), 'utf8')).toBe('top\n');
  });

  it('verify --read-data checks policies, audit, keys and config objects', async () => {
    t = await makeFsRepo('dmg-kinds');
    const { src } = makeSource();
    await backup(t.repo, { paths: [src] });
    const policy = await setRetentionPolicy(t.repo, 'src', {
      keepLast: 3,
      lockDays: { daily: 1, weekly: 1, monthly: 1, yearly: 1 },
      timeZone: 'UTC',
    });
    expect((await verifyRepository(t.repo, { readData: true })).problems).toEqual([]);

    const repoDir = join(t.dir, 'repo');
    flipByte(join(repoDir, objectNames.policy(policy.id)), 25);
    const [key] = readdirSync(join(repoDir, 'keys'));
    const keyFile = join(repoDir, 'keys', key!);
    // a second, broken key object: the repository still opens with the first
    writeFileSync(join(repoDir, 'keys', newObjectId()), 'not a key');
    expect(existsSync(keyFile)).toBe(true);
    // a config rewritten on the folder (the key carries the authentic one)
    const configFile = join(repoDir, 'config');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as { created: string };
    config.created = '2000-01-01T00:00:00.000Z';
    chmodSync(configFile, 0o644);
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const r = await verifyRepository(t.repo, { readData: true });
    expect(problemObjects(r)).toContain(objectNames.policy(policy.id));
    expect(r.problems.some((p) => p.kind === 'damaged-key')).toBe(true);
    expect(r.problems.find((p) => p.object === 'config')?.kind).toBe('damaged-config');
    // structure alone does not read those
    expect((await verifyRepository(t.repo)).problems).toEqual([]);
  });

  describe('the audit log is hash-chained', () => {
    const auditDir = (): string => join(t!.dir, 'repo', 'audit');
    const auditObjects = (): string[] => readdirSync(auditDir()).sort();

    const threeEntries = async (): Promise<void> => {
      t = await makeFsRepo('dmg-audit');
      for (let i = 0; i < 4; i++)
        await recordAudit(t.repo, { action: 'test', subject: `entry ${i}`, details: { i } });
      expect(auditObjects()).toHaveLength(4);
      const ok = await verifyRepository(t.repo);
      expect(ok.problems).toEqual([]);
    };

    it('a deleted audit object is reported as a gap with the time range', async () => {
      await threeEntries();
      const objects = auditObjects();
      rmSync(join(auditDir(), objects[1]!), { force: true });
      const r = await verifyRepository(t!.repo);
      expect(r.ok).toBe(false);
      const gap = r.problems.find((p) => p.kind === 'audit-gap');
      expect(gap?.message).toMatch(/missing/);
      // the range: between the entries before and after it
      const iso = (name: string): string => {
        const s = name.slice(0, name.indexOf('-'));
        return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}.${s.slice(15, 18)}Z`;
      };
      expect(gap?.message).toContain(iso(objects[0]!));
      expect(gap?.message).toContain(iso(objects[2]!));
      // a fresh catalog sees it too: the chain is in the repository
      expect((await verifyRepository(await fresh())).problems.some((p) => p.kind === 'audit-gap')).toBe(true);
    });

    it('the newest audit object deleted: this computer knows it wrote it', async () => {
      await threeEntries();
      const objects = auditObjects();
      rmSync(join(auditDir(), objects.at(-1)!), { force: true });
      const r = await verifyRepository(t!.repo);
      expect(r.problems.some((p) => p.kind === 'audit-gap')).toBe(true);
    });

    it('an altered audit object is reported', async () => {
      await threeEntries();
      const objects = auditObjects();
      flipByte(join(auditDir(), objects[2]!), 30);
      const r = await verifyRepository(t!.repo);
      expect(problemObjects(r)).toContain(`audit/${objects[2]}`);
      expect(r.problems.find((p) => p.object === `audit/${objects[2]}`)?.kind).toBe('damaged-record');
    });

    it('entries written before the chain are read and said to be unchained, not damaged', async () => {
      t = await makeFsRepo('dmg-audit-old');
      const time = new Date('2025-01-02T03:04:05.678Z');
      const id = newObjectId();
      await putRecord(
        t.repo,
        'audit',
        objectNames.audit(stamp(time), id),
        {
          version: 1,
          id,
          time: time.toISOString(),
          actor: 'cli',
          host: 'old',
          user: 'u',
          action: 'backup',
          subject: null,
        },
        undefined,
      );
      await recordAudit(t.repo, { action: 'test' });
      const r = await verifyRepository(t.repo);
      expect(r.problems).toEqual([]);
      expect(r.notes?.join('\n')).toContain('written before the audit log was chained');
    });
  });
});
