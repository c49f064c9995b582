/** The tree stages on their own: the builder's bottom-up completion, the saver's dedup and packs. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Tree, TreeNode } from '../../../src-main/engine/repo/format.ts';
import type { FinishedPack } from '../../../src-main/engine/repo/pack.ts';
import { RunDedup } from '../../../src-main/engine/backup/stages/run-dedup.ts';
import { TreeBuilder } from '../../../src-main/engine/backup/stages/tree-builder.ts';
import { TreeSaver } from '../../../src-main/engine/backup/stages/tree-saver.ts';
import { encodeTree } from '../../../src-main/engine/backup/stages/tree-nodes.ts';

const node = (name: string, type: TreeNode['type']): TreeNode => ({
  name,
  type,
  mode: type === 'dir' ? 0o755 : 0o644,
  mtimeNs: '1',
  ctimeNs: '1',
  inode: '1',
  uid: 0,
  gid: 0,
});

describe('TreeBuilder', () => {
  it('stores a folder once its files are read and its subfolders stored, the root last and sorted', async () => {
    const saved: Tree[] = [];
    let dirsStored = 0;
    const filesRead: string[] = [];
    const tree = new TreeBuilder(
      (t) => {
        saved.push(structuredClone(t));
        return `tree${saved.length}`;
      },
      () => dirsStored++,
      (d) => filesRead.push(d.path),
    );
    const top = node('top', 'dir');
    tree.root.nodes.push(top);
    tree.expectRootDir(-1, top);

    // top holds a file still being read and a subfolder the scanner lists next
    const { parent, node: topNode } = tree.locate(0, -1, 'top', '/src/top');
    expect(topNode).toBe(top);
    const d = tree.open(1, '/src/top', parent, topNode, undefined);
    const sub = node('sub', 'dir');
    const file = node('b.txt', 'file');
    d.nodes.push(file, sub);
    tree.expectDir(d, sub);
    tree.expectFile(d);
    tree.expectFile(d);
    tree.listed(d);
    expect(saved).toHaveLength(0);
    tree.fileDone(d);
    expect(filesRead).toEqual([]); // one of its two files is still being read

    const s = tree.open(2, '/src/top/sub', tree.locate(1, 2, 'sub', '/src/top/sub').parent, sub, undefined);
    s.nodes.push(node('z', 'file'), node('a', 'file'));
    tree.listed(s); // nothing pending: stored at once
    expect(saved.map((t) => t.nodes.map((n) => n.name))).toEqual([['a', 'z']]);
    expect(sub.subtree).toBe('tree1');

    tree.scanFinished();
    tree.fileDone(d); // the last read ends: top, then the root
    expect(filesRead).toEqual(['/src/top']);
    expect(top.subtree).toBe('tree2');
    expect(saved[1]?.nodes.map((n) => n.name)).toEqual(['b.txt', 'sub']);
    expect(await tree.rootTree).toBe('tree3');
    expect(dirsStored).toBe(2);
  });

  it("takes the parent's listing for a folder where nothing changed, stores one where anything did", async () => {
    const saved: Tree[] = [];
    const tree = new TreeBuilder(
      (t) => {
        saved.push(structuredClone(t));
        return `new${saved.length}`;
      },
      () => undefined,
    );
    const file = (name: string, content: string[]): TreeNode => ({ ...node(name, 'file'), size: 3, content });
    const prevListing = (): Map<string, TreeNode> =>
      new Map([file('a', ['b1']), file('b', ['b2', 'b3'])].map((n) => [n.name, n]));
    const folder = (dirId: number, nodes: TreeNode[], prevId: string | undefined): TreeNode => {
      const n = node(`d${dirId}`, 'dir');
      tree.root.nodes.push(n);
      tree.expectRootDir(-dirId, n);
      const { parent } = tree.locate(0, -dirId, n.name, `/src/${n.name}`);
      const d = tree.open(dirId, `/src/${n.name}`, parent, n, prevListing(), prevId);
      d.nodes.push(...nodes);
      tree.listed(d);
      return n;
    };
    // the same nodes, scanned in another order: the parent's listing
    const same = folder(1, [file('b', ['b2', 'b3']), file('a', ['b1'])], 'old1');
    // one blob of one file differs; a field the parent's node lacks; a file more; no listing to take
    const otherBlob = folder(2, [file('a', ['b1']), file('b', ['b2', 'bX'])], 'old2');
    const extraField = folder(3, [file('a', ['b1']), { ...file('b', ['b2', 'b3']), nlink: 2 }], 'old3');
    const moreFiles = folder(4, [file('a', ['b1']), file('b', ['b2', 'b3']), file('c', [])], 'old4');
    const noPrevId = folder(5, [file('a', ['b1']), file('b', ['b2', 'b3'])], undefined);
    tree.scanFinished();
    await tree.rootTree;
    expect(same.subtree).toBe('old1');
    expect([otherBlob, extraField, moreFiles, noPrevId].map((n) => n.subtree)).toEqual([
      'new1',
      'new2',
      'new3',
      'new4',
    ]);
    expect(saved).toHaveLength(5); // four folders and the root
  });

  it('refuses a folder whose parent it never saw', () => {
    const tree = new TreeBuilder(
      () => 'x',
      () => undefined,
    );
    expect(() => tree.locate(7, 8, 'x', '/x')).toThrow(/before its parent/);
    expect(() => tree.locate(0, -3, 'x', '/x')).toThrow(/unexpected folder/);
  });
});

describe('TreeSaver', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const setup = (known: string[], unusable: string[], target: number) => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-trees-'));
    const listings = new Map<string, Buffer>();
    const uploads: FinishedPack[] = [];
    const dedup = new RunDedup(
      {
        count: () => known.length,
        ids: () => known.map((id) => Buffer.from(id, 'hex')),
        has: (id) => known.includes(id),
      },
      () => undefined,
    );
    const saver = new TreeSaver(
      {
        blobId: (plain) => createHash('sha256').update(plain).digest('hex'),
        encKey: randomBytes(32),
        putTrees: (trees) => {
          for (const [id, plain] of trees) listings.set(id, plain);
        },
        unusable: new Set(unusable),
      },
      dedup,
      { tmpDir: dir, target, md5: false },
      (pack) => {
        uploads.push(pack);
        return Promise.resolve();
      },
    );
    return { saver, listings, uploads, dedup };
  };
  const idOf = (t: Tree): string => createHash('sha256').update(encodeTree(t)).digest('hex');

  it('stores each new listing once, skips known ones, stores a damaged one again', async () => {
    const a: Tree = { nodes: [node('a', 'file')] };
    const b: Tree = { nodes: [node('b', 'file')] };
    const c: Tree = { nodes: [node('c', 'file')] };
    const { saver, listings, uploads } = setup([idOf(b), idOf(c)], [idOf(c)], 1 << 20);
    expect(saver.save(a)).toBe(idOf(a));
    saver.save(a); // the same folder twice: one blob
    saver.save(b); // held by the repository already
    saver.save(c); // held, but damaged: stored again
    saver.save(c);
    expect(listings.size).toBe(0); // kept back: the catalog takes them in one transaction
    await saver.finish();
    expect(listings.size).toBe(3); // the catalog keeps every listing
    expect(uploads).toHaveLength(1);
    expect(uploads[0]?.blobs.map((x) => x.id).sort()).toEqual([idOf(a), idOf(c)].sort());
  });

  it('hands listings to the catalog in batches of 512, the rest at finish', async () => {
    const { saver, listings } = setup([], [], 1 << 30);
    for (let i = 0; i < 600; i++) saver.save({ nodes: [node(`f${i}`, 'file')] });
    expect(listings.size).toBe(512);
    await saver.finish();
    expect(listings.size).toBe(600);
  });

  it('closes a tree pack once it reaches the target size, and claims in the dedup table once built', async () => {
    const { saver, uploads, dedup } = setup([], [], 1);
    saver.save({ nodes: [node('x', 'file')] });
    expect(uploads).toHaveLength(1); // one blob filled the pack
    dedup.start();
    saver.save({ nodes: [node('x', 'file')] }); // the table was seeded with this run's trees
    await saver.finish();
    expect(uploads).toHaveLength(1);
  });
});
