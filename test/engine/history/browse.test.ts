import { chmodSync, closeSync, mkdirSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../../src-main/engine/backup/backup.ts';
import {
  browseFolder,
  naturalCompare,
  naturalKey,
  type FolderListing,
} from '../../../src-main/engine/ops/ls.ts';
import { findNode } from '../../../src-main/engine/ops/walk.ts';
import type { SnapshotManifest } from '../../../src-main/engine/repo/format.ts';
import { fsPath } from '../../../src-main/engine/util/fs-names.ts';
import { makeEnv, type Env } from './helpers.ts';

// Browsing a snapshot folder a page at a time (ops/ls.ts browseFolder), on a real backup of a folder of
// 5 000 entries: pages in order, folders first, natural case-insensitive names; a damaged listing.

const FILES = 4950;
const DIRS = 50;
const STEMS = ['Report', 'report', 'Scan', 'a', 'Zeta', 'invoice-'];

let e: Env;
let snap: SnapshotManifest;
const names: string[] = [];

beforeAll(async () => {
  e = await makeEnv('browse');
  const big = join(e.dir, 'src', 'big');
  mkdirSync(big, { recursive: true });
  for (let i = 0; i < FILES; i++) {
    const name = `${STEMS[i % STEMS.length]} ${i % 997}${i % 7 === 0 ? '.PDF' : '.pdf'}${i >= 997 * 4 ? `.${i}` : ''}`;
    names.push(name);
    writeFileSync(join(big, name), `file ${i}`);
  }
  for (let i = 0; i < DIRS; i++) {
    mkdirSync(join(big, `Folder ${i}`));
    writeFileSync(join(big, `Folder ${i}`, 'inside.txt'), String(i));
  }
  writeFileSync(fsPath(join(big, 'caf\udce9.txt')), 'latin');
  snap = await backup(e.repo, { paths: [join(e.dir, 'src')], source: 'office', readers: 2 });
});
afterAll(() => e?.cleanup());

/** The order browsing promises, computed another way: ICU's numeric collation, case-insensitive. */
function expectedOrder(): string[] {
  const coll = new Intl.Collator('en', { numeric: true, sensitivity: 'accent' });
  const byName = (a: string, b: string): number => coll.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
  const dirs = Array.from({ length: DIRS }, (_, i) => `Folder ${i}`).sort(byName);
  return [...dirs, ...[...names, 'caf\udce9.txt'].sort(byName)];
}

describe('browseFolder', () => {
  it('pages of a 5 000-entry folder come in order: folders first, then natural, case-insensitive', async () => {
    const map = new Map<string, FolderListing>();
    let reads = 0;
    const cache = {
      get: (k: string) => map.get(k),
      set: (k: string, v: FolderListing) => {
        reads++;
        map.set(k, v);
      },
    };
    const seen: string[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await browseFolder(e.repo, snap.id, 'src/big', { offset, limit: 1000, cache });
      expect(page).toMatchObject({ snapshotId: snap.id, path: 'src/big', offset, total: FILES + DIRS + 1 });
      seen.push(...page.entries.map((x) => x.name));
      if (page.entries.length < 1000) break;
    }
    expect(seen).toEqual(expectedOrder());
    expect(reads).toBe(3); // the top, src and src/big: each listing read once for all six pages
    // the first pages come from a bounded selection, not the full sort: the same order
    const small: string[] = [];
    for (let offset = 0; offset < 1500; offset += 100)
      small.push(
        ...(await browseFolder(e.repo, snap.id, 'src/big', { offset, limit: 100 })).entries.map(
          (x) => x.name,
        ),
      );
    expect(small).toEqual(expectedOrder().slice(0, 1500));
    const first = await browseFolder(e.repo, snap.id, 'src/big', { limit: 3 });
    expect(first.entries.map((x) => x.type)).toEqual(['dir', 'dir', 'dir']);
    expect(first.entries[0]).toMatchObject({
      name: 'Folder 0',
      path: 'src/big/Folder 0',
      originalPath: join(e.dir, 'src', 'big', 'Folder 0'),
    });
    const file = (await browseFolder(e.repo, snap.id, 'src/big', { offset: DIRS, limit: 1 })).entries[0];
    expect(file).toMatchObject({ type: 'file', size: expect.any(Number) as number });
    expect(file?.mtime).toMatch(/Z$/);
    const past = await browseFolder(e.repo, snap.id, 'src/big', { offset: 10_000 });
    expect(past).toMatchObject({ total: FILES + DIRS + 1, entries: [] });
  });

  it('the top of a snapshot lists its backed-up folders with where they were; a sub-folder by a path with escapes', async () => {
    const top = await browseFolder(e.repo, 'latest', '');
    expect(top.entries).toEqual([
      expect.objectContaining({ name: 'src', path: 'src', type: 'dir', originalPath: join(e.dir, 'src') }),
    ]);
    const inside = await browseFolder(e.repo, snap.id, '/src/big/Folder 7/');
    expect(inside.entries.map((x) => [x.path, x.originalPath])).toEqual([
      ['src/big/Folder 7/inside.txt', join(e.dir, 'src', 'big', 'Folder 7', 'inside.txt')],
    ]);
    await expect(browseFolder(e.repo, snap.id, 'src/nothing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(browseFolder(e.repo, snap.id, 'src/big/a 1.pdf')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('natural keys: numbers by value, case ignored, leading zeros ignored', () => {
    const sorted = ['file10', 'File2', 'file1', 'file02x', 'FILE2a', 'file'].sort((a, b) =>
      naturalKey(a) < naturalKey(b) ? -1 : naturalKey(a) > naturalKey(b) ? 1 : 0,
    );
    expect(sorted).toEqual(['file', 'file1', 'File2', 'FILE2a', 'file02x', 'file10']);
    // naturalCompare (no keys made) orders as the keys do
    const sign = (x: number) => Math.sign(x);
    const samples = [
      ...names.slice(0, 400),
      'a0',
      'a00',
      'a000b',
      'a 1',
      'a-1',
      'a.1',
      'a1',
      'a01',
      'x9',
      'x10',
      'éa',
      'Ea',
      '',
      '0',
    ];
    for (const a of samples)
      for (const b of samples.slice(0, 60)) {
        const [x, y] = [naturalKey(a), naturalKey(b)];
        expect(sign(naturalCompare(a.toLowerCase(), b.toLowerCase())), `${a} / ${b}`).toBe(
          sign(x < y ? -1 : x > y ? 1 : 0),
        );
      }
  });

  it('a damaged folder listing answers with `damaged` instead of failing', async () => {
    const node = await findNode(e.repo, snap.tree, 'src/big/Folder 3');
    const tree = node.type === 'dir' ? node.subtree : undefined;
    if (!tree) throw new Error('no subtree');
    const loc = e.repo.catalog.lookupBlob(e.repo.rid, tree)!;
    const file = join(e.dir, 'repo', 'packs', loc.pack.slice(0, 2), loc.pack);
    chmodSync(file, 0o644);
    const fd = openSync(file, 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, loc.offset + 20);
    b[0] = b[0]! ^ 0x5a;
    writeSync(fd, b, 0, 1, loc.offset + 20);
    closeSync(fd);
    e.repo.catalog.db.prepare('DELETE FROM trees WHERE rid = ?').run(e.repo.rid); // read from the pack
    const page = await browseFolder(e.repo, snap.id, 'src/big/Folder 3');
    expect(page).toMatchObject({ path: 'src/big/Folder 3', total: 0, entries: [] });
    expect(page.damaged).toMatch(/^src\/big\/Folder 3: this folder's listing is damaged in the repository/);
    const below = await browseFolder(e.repo, snap.id, 'src/big/Folder 3/deeper');
    expect(below.damaged).toMatch(/^src\/big\/Folder 3: this folder's listing is damaged/);
    // the rest still browses
    expect((await browseFolder(e.repo, snap.id, 'src/big', { limit: 1 })).total).toBe(FILES + DIRS + 1);
  });
});
