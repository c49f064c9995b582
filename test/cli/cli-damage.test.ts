/**
 * The CLI on a damaged repository: nothing is lost silently. A damaged snapshot object is named by
 * `snapshots` (and the exit status says the list is incomplete); one damaged folder listing does not
 * stop `repair --rebuild-catalog`, `ls` or `restore`, which name the folder and handle everything else;
 * `verify` names every snapshot that uses it.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../src-main/engine/catalog/catalog.ts';
import { findNode } from '../../src-main/engine/ops/walk.ts';
import { Repository } from '../../src-main/engine/repo/repository.ts';
import { FsStore } from '../../src-main/engine/storage/fs.ts';
import { PASSWORD, runBulwark, type Result } from './helpers.ts';

let tmp: string;
let src: string;
let n = 0;

/** Each call may get its own BULWARK_HOME: a new computer that knows nothing of the repository yet. */
function bulwark(args: string[], home = 'home'): Promise<Result> {
  return runBulwark(args, { home: path.join(tmp, home), tmp });
}
const freshHome = (): string => `home-${++n}`;

function flipByte(file: string, at: number): void {
  fs.chmodSync(file, 0o644);
  const bytes = fs.readFileSync(file);
  bytes[at] = (bytes[at] ?? 0) ^ 0x5a;
  fs.writeFileSync(file, bytes);
}

/** init + two backups of the same (unchanged) source: the second shares every tree with the first. */
async function twoSnapshots(repo: string): Promise<[string, string]> {
  expect((await bulwark(['init', '--repo', repo])).code).toBe(0);
  const a = await bulwark(['backup', '--repo', repo, src]);
  const b = await bulwark(['backup', '--repo', repo, src]);
  expect([a.code, b.code]).toEqual([0, 0]);
  return [a.stdout.trim(), b.stdout.trim()];
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  src = path.join(tmp, 'src');
  fs.mkdirSync(path.join(src, 'Documents', '2024'), { recursive: true });
  fs.writeFileSync(path.join(src, 'top.txt'), 'top\n');
  fs.writeFileSync(path.join(src, 'Documents', 'other.txt'), 'other\n');
  fs.writeFileSync(path.join(src, 'Documents', '2024', 'a.txt'), 'alpha\n');
  fs.writeFileSync(path.join(src, 'Documents', '2024', 'b.bin'), randomBytes(20_000));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('bulwark CLI on a damaged repository', () => {
  it('snapshots on a new computer names a damaged snapshot object and exits 1', async () => {
    const repo = path.join(tmp, 'repo-snap');
    const [first, second] = await twoSnapshots(repo);
    flipByte(path.join(repo, 'snapshots', first), 40);

    const home = freshHome();
    const text = await bulwark(['snapshots', '--repo', repo], home);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(second.slice(0, 8));
    expect(text.stdout).toContain('1 snapshot\n');
    expect(text.stderr).toContain(`snapshots/${first}`);
    expect(text.stderr).toContain('bulwark verify');

    const json = await bulwark(['snapshots', '--repo', repo, '--json'], home);
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as { id: string }[]).map((s) => s.id)).toEqual([second]);
    expect(json.stderr).toContain(`snapshots/${first}`);
  });

  it('one damaged folder listing: repair, ls and restore name the folder and handle the rest; verify names both snapshots', async () => {
    const repo = path.join(tmp, 'repo-tree');
    const [first, second] = await twoSnapshots(repo);
    const folder = 'src/Documents/2024';

    // Flip a byte inside the tree blob of src/Documents/2024, found through a throwaway catalog.
    const cat = Catalog.open(':memory:');
    try {
      const r = await Repository.open(new FsStore({ root: repo }), PASSWORD, cat);
      await r.syncIndexes();
      await r.syncSnapshots();
      const node = await findNode(r, r.resolveSnapshot('latest').tree, folder);
      const tree = node.type === 'dir' ? node.subtree : undefined;
      const loc = cat.lookupBlob(r.rid, tree ?? '');
      expect(loc).toBeDefined();
      flipByte(path.join(repo, 'packs', loc!.pack.slice(0, 2), loc!.pack), loc!.offset + 20);
    } finally {
      cat.close();
    }

    const home = freshHome();
    const repair = await bulwark(['repair', '--repo', repo, '--rebuild-catalog'], home);
    expect(repair.code).toBe(1);
    expect(repair.stdout).toContain('2 snapshots');
    expect(repair.stdout).toContain(folder);
    expect(repair.stderr).toContain('the catalog is usable');

    const ls = await bulwark(['ls', '--repo', repo, 'latest'], home);
    expect(ls.code).toBe(1);
    expect(ls.stdout).toContain('src/top.txt');
    expect(ls.stdout).toContain('src/Documents/other.txt');
    expect(ls.stdout).not.toContain(`${folder}/a.txt`);
    expect(ls.stderr).toContain(`${folder}: this folder's listing is damaged in the repository`);

    const target = path.join(tmp, 'restored');
    const restore = await bulwark(['restore', '--repo', repo, 'latest', '--target', target], home);
    expect(restore.code).toBe(1);
    expect(restore.stdout).toContain(
      `${folder}: this folder's listing is damaged in the repository; its files were not restored`,
    );
    expect(fs.readFileSync(path.join(target, 'src', 'top.txt'), 'utf8')).toBe('top\n');
    expect(fs.readFileSync(path.join(target, 'src', 'Documents', 'other.txt'), 'utf8')).toBe('other\n');

    const verify = await bulwark(['verify', '--repo', repo], freshHome());
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`${first}:${folder}`);
    expect(verify.stdout).toContain(`${second}:${folder}`);
  });
});
