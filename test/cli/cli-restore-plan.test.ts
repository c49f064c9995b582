/**
 * `bulwark restore` plans first: by default it never overwrites anything silently (conflicts are listed,
 * exit 1, nothing written), --dry-run prints the plan, --on-conflict says what to do with conflicts, and
 * --in-place restores to where the files were backed up from.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBulwark, type Result } from './helpers.ts';

let tmp: string;
let home: string;
let repo: string;
let src: string;

function bulwark(args: string[]): Promise<Result> {
  return runBulwark(args, { home, tmp });
}

/** Every file under dir: relative path -> contents. */
function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, rel);
    if (fs.statSync(p).isFile()) out[rel.split(path.sep).join('/')] = fs.readFileSync(p, 'utf8');
  }
  return out;
}

const ORIGINAL = { 'a.txt': 'alpha\n', 'sub/b.txt': 'bravo\n', 'sub/c.txt': 'charlie\n' };

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  home = path.join(tmp, 'home');
  repo = path.join(tmp, 'repo');
  src = path.join(tmp, 'src');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  for (const [rel, text] of Object.entries(ORIGINAL)) fs.writeFileSync(path.join(src, rel), text);
  expect((await bulwark(['init', '--repo', repo])).code).toBe(0);
  expect((await bulwark(['backup', '--repo', repo, src])).code).toBe(0);
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A target that already holds src: a.txt identical, sub/b.txt changed; sub/c.txt missing. */
function preparedTarget(name: string): string {
  const target = path.join(tmp, name);
  fs.mkdirSync(path.join(target, 'src', 'sub'), { recursive: true });
  fs.cpSync(path.join(src, 'a.txt'), path.join(target, 'src', 'a.txt'), { preserveTimestamps: true });
  fs.writeFileSync(path.join(target, 'src', 'sub', 'b.txt'), 'changed by hand\n');
  return target;
}

describe('bulwark restore (plans)', () => {
  it('stops before writing anything and lists the conflicts unless --on-conflict is given (exit 1)', async () => {
    const target = preparedTarget('stop');
    const before = readTree(target);
    const r = await bulwark(['restore', '--repo', repo, 'latest', '--target', target]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('1 file already exists with other content:');
    expect(r.stdout).toContain(path.join(target, 'src', 'sub', 'b.txt'));
    expect(r.stderr).toContain('nothing was restored');
    expect(r.stderr).toContain('--on-conflict overwrite, keep-both, skip or if-newer');
    expect(readTree(target)).toEqual(before); // not even the missing sub/c.txt

    const j = await bulwark(['restore', '--repo', repo, 'latest', '--target', target, '--json']);
    expect(j.code).toBe(1);
    const doc = JSON.parse(j.stdout) as {
      restored: boolean;
      totals: Record<string, number>;
      items: { path: string }[];
    };
    expect(doc.restored).toBe(false);
    expect(doc.totals).toMatchObject({ files: 3, create: 1, identical: 1, conflicts: 1 });
    expect(doc.items.map((i) => i.path)).toEqual(['src/sub/b.txt']);
  });

  it('--dry-run prints the plan and writes nothing', async () => {
    const target = preparedTarget('dry');
    const before = readTree(target);
    const r = await bulwark(['restore', '--repo', repo, 'latest', '--target', target, '--dry-run']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    // a conflict says what is there and what the snapshot holds
    const conflict = lines.find((l) =>
      l.startsWith(`  conflict  ${path.join(target, 'src', 'sub', 'b.txt')} (`),
    );
    expect(conflict).toMatch(/\(there: 16 B, modified .*; in the snapshot: 6 B, modified .*\)$/);
    expect(lines).toContain(`  create    ${path.join(target, 'src', 'sub', 'c.txt')}`);
    expect(lines).toContain(`  identical ${path.join(target, 'src', 'a.txt')}`);
    expect(r.stdout).toContain('3 files (20 B): 1 to create, 1 identical (left as they are), 1 conflict');
    expect(readTree(target)).toEqual(before);
  });

  it('--on-conflict skip, keep-both and overwrite', async () => {
    const skip = preparedTarget('skip');
    const rs = await bulwark([
      'restore',
      '--repo',
      repo,
      'latest',
      '--target',
      skip,
      '--on-conflict',
      'skip',
    ]);
    expect(rs.code).toBe(0);
    expect(rs.stdout).toContain('restored 1 file');
    expect(rs.stdout).toContain('1 identical left as they were, 1 skipped');
    expect(readTree(skip)).toEqual({
      'src/a.txt': 'alpha\n',
      'src/sub/b.txt': 'changed by hand\n',
      'src/sub/c.txt': 'charlie\n',
    });

    const both = preparedTarget('both');
    const rb = await bulwark([
      'restore',
      '--repo',
      repo,
      'latest',
      '--target',
      both,
      '--on-conflict',
      'keep-both',
    ]);
    expect(rb.code).toBe(0);
    const tree = readTree(both);
    const kept = Object.keys(tree).find((k) => k.startsWith('src/sub/b (restored '));
    expect(kept).toMatch(/^src\/sub\/b \(restored \d{4}-\d\d-\d\d \d\d\.\d\d\)\.txt$/);
    expect(tree[kept!]).toBe('bravo\n');
    expect(tree['src/sub/b.txt']).toBe('changed by hand\n');

    const over = preparedTarget('over');
    const ro = await bulwark([
      'restore',
      '--repo',
      repo,
      'latest',
      '--target',
      over,
      '--on-conflict',
      'overwrite',
    ]);
    expect(ro.code).toBe(0);
    expect(readTree(over)).toEqual(
      Object.fromEntries(Object.entries(ORIGINAL).map(([k, v]) => [`src/${k}`, v])),
    );

    const bad = await bulwark([
      'restore',
      '--repo',
      repo,
      'latest',
      '--target',
      over,
      '--on-conflict',
      'replace',
    ]);
    expect(bad.code).toBe(2);
  });

  it('--in-place restores to where the files were backed up from', async () => {
    fs.rmSync(path.join(src, 'sub', 'c.txt'));
    fs.writeFileSync(path.join(src, 'sub', 'b.txt'), 'edited since the backup\n');
    const stop = await bulwark(['restore', '--repo', repo, 'latest', '--in-place']);
    expect(stop.code).toBe(1);
    expect(stop.stdout).toContain(path.join(src, 'sub', 'b.txt'));
    expect(fs.existsSync(path.join(src, 'sub', 'c.txt'))).toBe(false);

    const one = await bulwark(['restore', '--repo', repo, 'latest:src/sub/c.txt', '--in-place']);
    expect(one.code).toBe(0);
    expect(fs.readFileSync(path.join(src, 'sub', 'c.txt'), 'utf8')).toBe('charlie\n');

    const all = await bulwark([
      'restore',
      '--repo',
      repo,
      'latest',
      '--in-place',
      '--on-conflict',
      'overwrite',
    ]);
    expect(all.code).toBe(0);
    expect(readTree(src)).toEqual(ORIGINAL);

    const both = await bulwark([
      'restore',
      '--repo',
      repo,
      'latest',
      '--in-place',
      '--target',
      path.join(tmp, 'x'),
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--target DIR or --in-place');
  });
});
