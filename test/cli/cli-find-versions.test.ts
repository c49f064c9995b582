import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBulwark, type Result } from './helpers.ts';

// `bulwark find` and `bulwark versions` (the file-history index) as a script uses them: JSON shapes, the
// snapshot ids `restore` takes, names escaped for the terminal, and a catalog from before the index.

let tmp: string;
let home: string;
let repo: string;
let src: string;
let catalog: string;

const bulwark = (args: string[]): Promise<Result> => runBulwark(args, { home, tmp });
const json = <T>(r: Result): T => JSON.parse(r.stdout) as T;
const LATIN1 = Buffer.from('caf\xe9.txt', 'latin1'); // not UTF-8

interface VersionJson {
  snapshot: string;
  time: string;
  size: number;
  mtime: string;
  path: string;
  originalPath: string;
  source: string;
  firstSnapshot: string;
  firstSeen: string;
  lastSeen?: string;
  endedBy?: string;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  home = path.join(tmp, 'home');
  repo = path.join(tmp, 'repo');
  src = path.join(tmp, 'Office');
  catalog = path.join(tmp, 'catalog.db');
  fs.mkdirSync(path.join(src, 'Invoices'), { recursive: true });
  fs.writeFileSync(path.join(src, 'Invoices', 'INV-001.pdf'), 'invoice one, first draft');
  fs.writeFileSync(path.join(src, 'notes.txt'), 'notes');
  fs.writeFileSync(Buffer.concat([Buffer.from(`${src}/`), LATIN1]), 'latin');
  const run = async (args: string[]): Promise<void> => {
    const r = await bulwark([...args, '--repo', repo, '--catalog', catalog]);
    expect(r.code, r.stderr).toBe(0);
  };
  await run(['init']);
  await run(['backup', src]);
  fs.writeFileSync(path.join(src, 'Invoices', 'INV-001.pdf'), 'invoice one, final');
  await run(['backup', src]);
  fs.rmSync(path.join(src, 'notes.txt'));
  await run(['backup', src]);
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const opts = (): string[] => ['--repo', repo, '--catalog', catalog];

describe('bulwark find / versions', () => {
  it('find --json: one element per file, { path, versions } newest first; deleted files too', async () => {
    const r = await bulwark(['find', 'inv-0', '--json', ...opts()]);
    expect(r.code, r.stderr).toBe(0);
    const files =
      json<{ path: string; deleted: boolean; originalPath: string; versions: VersionJson[] }[]>(r);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({
      path: 'Office/Invoices/INV-001.pdf',
      deleted: false,
      originalPath: path.join(src, 'Invoices', 'INV-001.pdf'),
    });
    expect(files[0]!.versions.map((v) => v.size)).toEqual([18, 24]);
    expect(files[0]!.versions[1]).toMatchObject({ endedBy: 'changed' });
    const glob = json<{ path: string; deleted: boolean }[]>(
      await bulwark(['find', '*.TXT', '--json', ...opts()]),
    );
    expect(glob.map((f) => [f.path, f.deleted])).toEqual([
      ['Office/caf\udce9.txt', false],
      ['Office/notes.txt', true],
    ]);
    const none = await bulwark(['find', 'nothing-like-this', '--json', ...opts()]);
    expect(none.code).toBe(0);
    expect(json<unknown[]>(none)).toEqual([]);
  });

  it('versions --json: oldest first; each snapshot and path restore accepts gives that version', async () => {
    const r = await bulwark(['versions', 'Office/Invoices/INV-001.pdf', '--json', ...opts()]);
    expect(r.code, r.stderr).toBe(0);
    const versions = json<VersionJson[]>(r);
    expect(versions.map((v) => v.size)).toEqual([24, 18]);
    for (const v of versions) {
      expect(v.snapshot).toMatch(/^[0-9a-f]{32}$/);
      expect(v.time).toMatch(/Z$/);
      expect(v.mtime).toMatch(/Z$/);
      expect(v.path).toBe('Office/Invoices/INV-001.pdf');
    }
    expect(versions[0]!.firstSeen < versions[1]!.firstSeen).toBe(true);
    const target = path.join(tmp, 'restored-first');
    const restored = await bulwark([
      'restore',
      `${versions[0]!.snapshot}:${versions[0]!.path}`,
      '-t',
      target,
      ...opts(),
    ]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(fs.readFileSync(path.join(target, 'INV-001.pdf'), 'utf8')).toBe('invoice one, first draft');
    // by where it was on disk, too
    const byDisk = await bulwark([
      'versions',
      path.join(src, 'Invoices', 'INV-001.pdf'),
      '--json',
      ...opts(),
    ]);
    expect(json<VersionJson[]>(byDisk)).toEqual(versions);
  });

  it('human output: a table, names escaped for the terminal; a path with no versions fails plainly', async () => {
    const f = await bulwark(['find', 'caf', ...opts()]);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toMatch(/^VERSIONS +LAST SEEN +SIZE +SNAPSHOT +PATH$/m);
    expect(f.stdout).toContain('Office/caf\\xe9.txt');
    expect(f.stdout).not.toContain('\udce9');
    // typed back as shown, it is found
    const v = await bulwark(['versions', 'Office/caf\\xe9.txt', ...opts()]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^FIRST SEEN +LAST SEEN +THEN +SIZE +MODIFIED +SNAPSHOT +PATH$/m);
    expect(v.stdout).toContain('Office/caf\\xe9.txt');
    const gone = await bulwark(['versions', 'Office/notes.txt', ...opts()]);
    expect(gone.stdout).toMatch(/deleted/);
    const missing = await bulwark(['versions', 'Office/Invoices', ...opts()]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no file by that path in any snapshot/);
  });

  it('a catalog from before the index builds it on first use, saying so in one line', async () => {
    const db = new Database(catalog);
    for (const t of [
      'history_versions',
      'history_snapshots',
      'history_sources',
      'history_built',
      'history_search',
      'history_paths',
    ])
      db.prepare(`DELETE FROM ${t}`).run();
    db.close();
    const r = await bulwark(['find', 'INV', '--json', ...opts()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([
      'bulwark: building the file history of this repository from 3 snapshots (once; after this, only the backups made since are added)',
    ]);
    expect(json<{ versions: unknown[] }[]>(r)[0]?.versions).toHaveLength(2);
    const again = await bulwark(['find', 'INV', '--json', ...opts()]);
    expect(again.stderr).toBe('');
  });
});
