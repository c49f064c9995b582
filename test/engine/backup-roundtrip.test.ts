import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/engine/backup/backup.ts';
import { restoreSnapshot } from '../../src-main/engine/ops/restore.ts';
import { listSnapshot } from '../../src-main/engine/ops/ls.ts';
import { diffSnapshots } from '../../src-main/engine/ops/diff.ts';
import { verifyRepository } from '../../src-main/engine/ops/verify.ts';
import { describeTree, makeCorpus, mutateCorpus } from './helpers/corpus.ts';
import { makeFsRepo, tempDir, type TestRepo } from './helpers/repo.ts';

describe('backup → restore round trip on the make-corpus corpus (scale 0.2)', () => {
  let t: TestRepo;
  let work: string;
  let corpus: string;

  beforeAll(async () => {
    t = await makeFsRepo('roundtrip');
    work = tempDir('roundtrip-data');
    corpus = join(work, 'corpus');
    makeCorpus(corpus, 0.2);
    // Metadata the corpus does not have: odd modes, old mtimes, a symlink, a FIFO, an empty file and folder.
    mkdirSync(join(corpus, 'extra', 'empty-dir'), { recursive: true });
    writeFileSync(join(corpus, 'extra', 'empty.txt'), '');
    writeFileSync(join(corpus, 'extra', 'script.sh'), '#!/bin/sh\necho hi\n');
    chmodSync(join(corpus, 'extra', 'script.sh'), 0o750);
    writeFileSync(join(corpus, 'extra', 'private.txt'), 'secret');
    chmodSync(join(corpus, 'extra', 'private.txt'), 0o600);
    utimesSync(
      join(corpus, 'extra', 'private.txt'),
      new Date('2001-02-03T04:05:06.789Z'),
      new Date('2001-02-03T04:05:06.789Z'),
    );
    symlinkSync('../office', join(corpus, 'extra', 'link-to-office'));
    execFileSync('mkfifo', [join(corpus, 'extra', 'pipe')]);
    utimesSync(
      join(corpus, 'extra', 'empty-dir'),
      new Date('2010-01-01T00:00:00Z'),
      new Date('2010-01-01T00:00:00Z'),
    );
  });
  afterAll(() => {
    t?.cleanup();
    execFileSync('rm', ['-rf', work]);
  });

  it('restores contents, modes, mtimes, symlinks and FIFOs identically; a mutated day adds few bytes', async () => {
    const first = await backup(t.repo, { paths: [corpus] });
    expect(first.stats.errorCount).toBe(0);
    expect(first.stats.filesNew).toBe(first.stats.files);
    const before = describeTree(corpus);

    const out = join(work, 'restore-1');
    const r = await restoreSnapshot(t.repo, { snapshot: first.id, target: out });
    expect(r.errors).toEqual([]);
    const after = describeTree(join(out, 'corpus'));
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [path, e] of before) {
      const got = after.get(path)!;
      expect({ path, type: got.type, mode: got.mode, size: got.size }).toEqual({
        path,
        type: e.type,
        mode: e.mode,
        size: e.size,
      });
      if (e.type !== 'symlink') expect({ path, mtime: got.mtimeMs }).toEqual({ path, mtime: e.mtimeMs });
      if (e.content) expect(got.content!.equals(e.content), path).toBe(true);
      if (e.target) expect(got.target).toBe(e.target);
    }
    // diff -r agrees (diff cannot compare FIFOs: the loop above checked the pipe)
    execFileSync('diff', ['-r', '--no-dereference', '--exclude=pipe', corpus, join(out, 'corpus')]);

    // No change: nothing read, nothing added.
    const same = await backup(t.repo, { paths: [corpus] });
    expect(same.stats.bytesRead).toBe(0);
    expect(same.stats.filesUnchanged).toBe(first.stats.files);
    expect(same.parent).toBe(first.id);
    expect(await diffSnapshots(t.repo, first.id, same.id)).toEqual([]);

    // A working day: only a small fraction of the bytes is uploaded again.
    mutateCorpus(corpus);
    const second = await backup(t.repo, { paths: [corpus] });
    const total = second.stats.bytes;
    expect(second.stats.bytesAdded).toBeGreaterThan(0);
    expect(second.stats.bytesAdded / total).toBeLessThan(0.05);
    // The 4 KiB insert in the middle of the VM image costs only a few chunks.
    const vmOld = (await listSnapshot(t.repo, first.id, 'corpus/vm/disk-0.img'))[0]!;
    const vmNew = (await listSnapshot(t.repo, second.id, 'corpus/vm/disk-0.img'))[0]!;
    expect(vmNew.size).toBe(vmOld.size + 4096);
    const changes = await diffSnapshots(t.repo, first.id, second.id);
    expect(changes).toContainEqual({ path: 'corpus/vm/disk-0.img', change: 'modified' });
    expect(changes.some((c) => c.change === 'added' && c.path.includes('renamed'))).toBe(true);

    const out2 = join(work, 'restore-2');
    const r2 = await restoreSnapshot(t.repo, { snapshot: second.id, target: out2 });
    expect(r2.errors).toEqual([]);
    execFileSync('diff', ['-r', '--no-dereference', '--exclude=pipe', corpus, join(out2, 'corpus')]);

    const v = await verifyRepository(t.repo, { readData: true });
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.snapshots).toBe(3);
  });

  it('restores a single path of a snapshot (SNAPSHOT:PATH)', async () => {
    const snap = await backup(t.repo, { paths: [corpus] });
    const out = join(work, 'restore-sub');
    const r = await restoreSnapshot(t.repo, { snapshot: snap.id, subPath: 'corpus/extra', target: out });
    expect(r.errors).toEqual([]);
    execFileSync('diff', ['-r', '--no-dereference', '--exclude=pipe', join(corpus, 'extra'), out]);
  });
});

describe('backup filters', () => {
  it('leaves out excluded names and folders, keeps only included files, never enters skipped folders', async () => {
    const t = await makeFsRepo('filter');
    const src = join(tempDir('filter-src'), 'data');
    mkdirSync(join(src, 'cache', 'deep'), { recursive: true });
    mkdirSync(join(src, 'docs'), { recursive: true });
    mkdirSync(join(src, 'bulwark-state'), { recursive: true });
    writeFileSync(join(src, 'docs', 'a.doc'), 'a');
    writeFileSync(join(src, 'docs', 'b.tmp'), 'b');
    writeFileSync(join(src, 'docs', 'c.txt'), 'c');
    writeFileSync(join(src, 'cache', 'deep', 'x.doc'), 'x');
    writeFileSync(join(src, 'bulwark-state', 'catalog.db'), 'state');
    const snap = await backup(t.repo, {
      paths: [src],
      include: ['*.doc', '*.txt'],
      exclude: ['*.tmp', 'cache/**'],
      skipPaths: [join(src, 'bulwark-state')],
    });
    const names = (await listSnapshot(t.repo, snap.id)).map((e) => e.path);
    expect(names).toContain('data/docs/a.doc');
    expect(names).toContain('data/docs/c.txt');
    expect(names).not.toContain('data/docs/b.tmp');
    expect(names.some((n) => n.startsWith('data/cache'))).toBe(false);
    expect(names.some((n) => n.startsWith('data/bulwark-state'))).toBe(false);
    t.cleanup();
  });
});
