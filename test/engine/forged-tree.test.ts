import { existsSync, mkdirSync, readdirSync, readFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyStats, encodeTree } from '../../src-main/engine/backup/backup.ts';
import { compressBlob } from '../../src-main/engine/compress.ts';
import { seal } from '../../src-main/engine/crypto/seal.ts';
import { objectNames, type SnapshotManifest, type TreeNode } from '../../src-main/engine/repo/format.ts';
import { PackWriter } from '../../src-main/engine/repo/pack.ts';
import { newObjectId, type Repository } from '../../src-main/engine/repo/repository.ts';
import { restoreSnapshot } from '../../src-main/engine/ops/restore.ts';
import { makeFsRepo, tempDir, type TestRepo } from './helpers/repo.ts';

/** Writes arbitrary (hostile) trees into a repository the way a malicious or broken writer could. */
class Forger {
  private readonly pack: PackWriter;
  private readonly repo: Repository;
  constructor(repo: Repository) {
    this.repo = repo;
    this.pack = new PackWriter(tempDir('forger'));
  }
  private add(kind: 'data' | 'tree', plain: Buffer): string {
    const id = this.repo.blobId(plain);
    const [flag, body] = compressBlob(plain);
    this.pack.add(
      id,
      kind,
      seal(this.repo.key.encKey, [Buffer.from([flag]), body], Buffer.from(id, 'hex')),
      plain.length,
    );
    return id;
  }
  data(text: string): string {
    return this.add('data', Buffer.from(text));
  }
  tree(nodes: TreeNode[]): string {
    return this.add('tree', encodeTree({ nodes }));
  }
  async commit(rootTree: string): Promise<string> {
    const p = this.pack.finish(this.repo.key.encKey);
    await this.repo.store.put(objectNames.pack(p.id), { path: p.path, size: p.size });
    this.repo.catalog.addPack(this.repo.rid, p, null, null);
    await this.repo.writeIndex([p], undefined);
    const id = newObjectId();
    const m: SnapshotManifest = {
      version: 1,
      id,
      time: new Date().toISOString(),
      host: 'attacker',
      user: 'x',
      source: 'forged',
      paths: ['/'],
      tree: rootTree,
      stats: emptyStats(),
    };
    await this.repo.store.put(objectNames.snapshot(id), this.repo.encodeSnapshot(m).sealed);
    await this.repo.syncSnapshots();
    return id;
  }
}

const file = (name: string, content: string): TreeNode => ({
  name,
  type: 'file',
  mode: 0o644,
  mtimeNs: '1700000000000000000',
  size: 0,
  content: [content],
});

describe('restore of a forged snapshot never writes outside the target', () => {
  let t: TestRepo | undefined;
  afterEach(() => t?.cleanup());

  it('skips ../, absolute, nested and duplicate names and never writes through a symlink', async () => {
    t = await makeFsRepo('forged');
    const base = tempDir('forged-out');
    const outside = join(base, 'outside');
    mkdirSync(outside);
    const target = join(base, 'target');
    const f = new Forger(t.repo);
    const evil = f.data('owned');
    const good = f.data('hello');
    const inner = f.tree([file('x', evil)]);
    const deep = f.tree([file('..', evil), file('../../escaped-deep', evil), file('fine.txt', good)]);
    const root = f.tree([
      file('../escaped', evil),
      file('/tmp/absolute-escape', evil),
      file('a/../../escaped2', evil),
      file('..', evil),
      file('.', evil),
      file('', evil),
      file('nul\0byte', evil),
      // a symlink pointing outside, then a folder and a file with the same name that would write through it
      { name: 'link', type: 'symlink', mode: 0o777, mtimeNs: '1700000000000000000', target: outside },
      { name: 'link', type: 'dir', mode: 0o755, mtimeNs: '1700000000000000000', subtree: inner },
      { name: 'sub', type: 'dir', mode: 0o755, mtimeNs: '1700000000000000000', subtree: deep },
      file('ok.txt', good),
      // plain names on Linux and macOS, however they look: restored inside the target, under these names
      file('..\\escaped-backslash', good),
      file('..foo', good),
      file('...', good),
    ]);
    const snap = await f.commit(root);

    const r = await restoreSnapshot(t.repo, { snapshot: snap, target });

    // Nothing outside the target: the outside folder is empty, the base holds only what we made.
    expect(readdirSync(outside)).toEqual([]);
    expect(readdirSync(base).sort()).toEqual(['outside', 'target']);
    expect(existsSync('/tmp/absolute-escape')).toBe(false);
    // The good parts are restored; every hostile name is reported, not silently dropped.
    expect(readFileSync(join(target, 'ok.txt'), 'utf8')).toBe('hello');
    expect(readFileSync(join(target, 'sub', 'fine.txt'), 'utf8')).toBe('hello');
    if (process.platform !== 'win32')
      for (const n of ['..\\escaped-backslash', '..foo', '...'])
        expect(readFileSync(join(target, n), 'utf8'), n).toBe('hello');
    expect(r.errors.length).toBeGreaterThanOrEqual(8);
    expect(r.errors.map((e) => e.path)).toEqual(expect.arrayContaining(['../escaped', 'link']));
    // "link" exists once: as the symlink (first), never as a folder holding "x" written through it.
    expect(lstatSync(join(target, 'link')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(outside, 'x'))).toBe(false);
  });

  it('restoring over a target that already contains a planted symlink replaces it instead of following it', async () => {
    t = await makeFsRepo('planted');
    const base = tempDir('planted-out');
    const outside = join(base, 'outside');
    mkdirSync(outside);
    const target = join(base, 'target');
    mkdirSync(target);
    const { symlinkSync } = await import('node:fs');
    symlinkSync(join(outside, 'victim.txt'), join(target, 'ok.txt'));
    const f = new Forger(t.repo);
    const root = f.tree([file('ok.txt', f.data('hello'))]);
    const snap = await f.commit(root);
    const r = await restoreSnapshot(t.repo, { snapshot: snap, target });
    expect(r.errors).toEqual([]);
    expect(existsSync(join(outside, 'victim.txt'))).toBe(false);
    expect(lstatSync(join(target, 'ok.txt')).isFile()).toBe(true);
  });
});
