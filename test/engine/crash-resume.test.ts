import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../src-main/engine/catalog/catalog.ts';
import { rebuildCatalog } from '../../src-main/engine/ops/rebuild.ts';
import { restoreSnapshot } from '../../src-main/engine/ops/restore.ts';
import { verifyRepository } from '../../src-main/engine/ops/verify.ts';
import { readPackTrailer } from '../../src-main/engine/repo/pack.ts';
import { Repository } from '../../src-main/engine/repo/repository.ts';
import { makeCorpus } from './helpers/corpus.ts';
import { makeFsRepo, PASSWORD, tempDir, type TestRepo } from './helpers/repo.ts';
import { execFileSync } from 'node:child_process';

const CHILD = fileURLToPath(new URL('./helpers/backup-child.ts', import.meta.url));

function packIds(repoRoot: string): Map<string, number> {
  const out = new Map<string, number>();
  const root = join(repoRoot, 'packs');
  if (!existsSync(root)) return out;
  for (const d of readdirSync(root))
    for (const f of readdirSync(join(root, d)))
      if (!f.startsWith('.')) out.set(f, statSync(join(root, d, f)).size);
  return out;
}

describe('crash safety and disaster recovery', () => {
  const cleanups: (() => void)[] = [];
  afterAll(() => cleanups.forEach((c) => c()));

  /** A folder repository and a corpus of `scale` beside it, both removed after the tests. */
  async function repoAndCorpus(tag: string, scale: number): Promise<{ t: TestRepo; corpus: string }> {
    const t = await makeFsRepo(tag);
    cleanups.push(() => t.cleanup());
    const corpus = join(tempDir(`${tag}-data`), 'corpus');
    cleanups.push(() => rmSync(join(corpus, '..'), { recursive: true, force: true }));
    makeCorpus(corpus, scale);
    return { t, corpus };
  }

  it('kill -9 during a backup: the next backup completes, verifies, and uploads nothing twice', async () => {
    const { t, corpus } = await repoAndCorpus('crash', 0.1);
    t.repo.catalog.close();

    // Small packs so several are uploaded before the kill.
    const child = spawn(
      process.execPath,
      [CHILD, join(t.dir, 'repo'), t.catalogPath, PASSWORD, String(1 << 20), corpus],
      { stdio: 'pipe' },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 60_000;
    while (packIds(join(t.dir, 'repo')).size < 6) {
      if (Date.now() > deadline)
        throw new Error(`child uploaded too few packs before the deadline: ${stderr}`);
      if (child.exitCode !== null) throw new Error(`child finished before it could be killed: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    expect(await exited).toBeNull();
    const before = packIds(join(t.dir, 'repo'));
    expect(existsSync(join(t.dir, 'repo', 'snapshots'))).toBe(false); // nothing was committed

    // Blobs already in the repository before the second run.
    const repo = await t.reopen();
    const oldBlobs = new Set<string>();
    for (const [id, size] of before)
      for (const b of await readPackTrailer(t.store, repo.key.encKey, id, size)) oldBlobs.add(b.id);
    expect(oldBlobs.size).toBeGreaterThan(0);

    const snap = await backup(repo, { paths: [corpus] });
    expect(snap.stats.errorCount).toBe(0);
    const after = packIds(join(t.dir, 'repo'));
    const newPacks = [...after].filter(([id]) => !before.has(id));
    let reuploaded = 0;
    for (const [id, size] of newPacks)
      for (const b of await readPackTrailer(t.store, repo.key.encKey, id, size))
        if (oldBlobs.has(b.id)) reuploaded++;
    expect(reuploaded).toBe(0);
    for (const id of before.keys()) expect(after.has(id)).toBe(true); // nothing removed

    const v = await verifyRepository(repo, { readData: true });
    expect(v.problems).toEqual([]);
    const out = tempDir('crash-restore');
    cleanups.push(() => rmSync(out, { recursive: true, force: true }));
    const r = await restoreSnapshot(repo, { snapshot: snap.id, target: out });
    expect(r.errors).toEqual([]);
    execFileSync('diff', ['-r', corpus, join(out, 'corpus')]);
  });

  it('a run stopped while a pack is recorded in slices: the next backup adopts the pack and stores none of it again', async () => {
    // What a kill between two of addPackInSlices' transactions leaves: the pack in the repository, some of
    // its blob rows in the catalog, not its own row. Emulated in-process: the first half of the rows goes in,
    // then the run fails as a killed one would stop.
    const { t, corpus: src } = await repoAndCorpus('sliced', 0.02);
    const catalog = t.repo.catalog;
    const real = catalog.addPackInSlices.bind(catalog);
    const cut: string[] = [];
    catalog.addPackInSlices = async (rid, pack, retainUntil, indexId) => {
      const half = pack.blobs.slice(0, Math.ceil(pack.blobs.length / 2));
      await real(rid, { ...pack, blobs: half }, retainUntil, indexId, 4);
      catalog.db.prepare('DELETE FROM packs WHERE rid = ? AND id = ?').run(rid, pack.id);
      cut.push(pack.id);
      throw new Error('killed between two slices');
    };
    await expect(backup(t.repo, { paths: [src] })).rejects.toThrow(/killed between two slices/);
    expect(cut.length).toBeGreaterThan(0);
    const stored = packIds(join(t.dir, 'repo'));
    for (const id of cut) {
      expect(stored.has(id)).toBe(true); // uploaded before it was recorded
      expect(catalog.hasPack(t.repo.rid, id)).toBe(false);
    }
    expect(catalog.blobCount(t.repo.rid)).toBeGreaterThan(0); // the rows of the first slices stayed

    const repo = await t.reopen();
    const cutBlobs = new Set<string>();
    for (const id of cut)
      for (const b of await readPackTrailer(t.store, repo.key.encKey, id, stored.get(id)!))
        cutBlobs.add(b.id);
    const snap = await backup(repo, { paths: [src] });
    expect(snap.stats.errorCount).toBe(0);
    for (const id of cut) expect(repo.catalog.hasPack(repo.rid, id)).toBe(true); // adopted, every row
    for (const b of cutBlobs)
      expect(repo.catalog.lookupBlob(repo.rid, b)?.pack).toMatch(new RegExp(`^(${cut.join('|')})$`));
    const after = packIds(join(t.dir, 'repo'));
    let again = 0;
    for (const [id, size] of after)
      if (!stored.has(id))
        for (const b of await readPackTrailer(t.store, repo.key.encKey, id, size))
          if (cutBlobs.has(b.id)) again++;
    expect(again).toBe(0);
    expect((await verifyRepository(repo, { readData: true })).problems).toEqual([]);
    const out = tempDir('sliced-restore');
    cleanups.push(() => rmSync(out, { recursive: true, force: true }));
    const r = await restoreSnapshot(repo, { snapshot: snap.id, target: out });
    expect(r.errors).toEqual([]);
    execFileSync('diff', ['-r', src, join(out, 'corpus')]);
  });

  it('deleting the catalog and rebuilding it gives back every snapshot; restore and incremental backup work', async () => {
    const { t, corpus: src } = await repoAndCorpus('rebuild', 0.02);
    const s1 = await backup(t.repo, { paths: [src] });
    const s2 = await backup(t.repo, { paths: [src], tags: ['second'] });
    const expected = t.repo.catalog.snapshots(t.repo.rid);
    t.repo.catalog.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(t.catalogPath + suffix, { force: true });

    const fresh = await Repository.open(t.store, PASSWORD, Catalog.open(t.catalogPath));
    t.repo = fresh;
    expect(fresh.catalog.snapshots(fresh.rid)).toEqual([]);
    const res = await rebuildCatalog(fresh);
    expect(res.snapshots).toBe(2);
    expect(fresh.catalog.snapshots(fresh.rid)).toEqual(expected);
    expect(fresh.catalog.snapshots(fresh.rid).map((s) => s.id)).toEqual([s1.id, s2.id]);

    const out = tempDir('rebuild-restore');
    const r = await restoreSnapshot(fresh, { snapshot: s1.id, target: out });
    expect(r.errors).toEqual([]);
    execFileSync('diff', ['-r', src, join(out, 'corpus')]);
    // The rebuilt file-state cache still lets the next backup skip every unchanged file.
    const s3 = await backup(fresh, { paths: [src] });
    expect(s3.stats.bytesRead).toBe(0);
    expect(s3.stats.bytesAdded).toBeLessThan(4096);
    expect((await verifyRepository(fresh)).ok).toBe(true);
  });
});
