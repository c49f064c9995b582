import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBulwark, type Result } from './helpers.ts';

/** Anything a terminal acts on: C0 (except the newline that ends a line), DEL, C1, bidi controls. */
const RAW_CONTROL =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const json = <T>(r: Result): T => JSON.parse(r.stdout) as T;
const mode = (p: string): string => (fs.statSync(p).mode & 0o777).toString(8);

interface Manifest {
  id: string;
  stats: { files: number; filesNew: number; filesChanged: number; bytesAdded: number; errorCount: number };
}

describe('the CLI never backs up its own state', () => {
  it('with BULWARK_HOME inside the backed-up folder: no repository or catalog in the snapshot, a second run adds nothing', async () => {
    const top = path.join(tmp, 'own-home');
    const home = path.join(top, '.bulwark-home');
    fs.mkdirSync(path.join(top, 'docs'), { recursive: true });
    fs.writeFileSync(path.join(top, 'docs', 'a.txt'), 'alpha\n');
    fs.writeFileSync(path.join(top, 'b.txt'), 'bravo\n');
    const ctx = { home, tmp };

    const first = await runBulwark(['backup', top, '--json'], ctx);
    expect(first.stderr).not.toMatch(/could not be backed up/);
    expect(first.code).toBe(0);
    expect(json<Manifest>(first).stats.files).toBe(2);
    // one line says which of its own folders were left out (not an error)
    const skipped = first.stderr.split('\n').filter((l) => l.includes("skipped: Bulwark's own"));
    expect(skipped).toHaveLength(1);
    for (const d of ['data', 'config', 'cache']) expect(skipped[0]).toContain(path.join(home, d));

    const ls = await runBulwark(['ls', 'latest', '--json'], ctx);
    expect(ls.code).toBe(0);
    const paths = json<{ path: string }[]>(ls).map((e) => e.path);
    expect(paths).toContain('own-home/docs/a.txt');
    // BULWARK_HOME is there (its folders are what Bulwark owns), empty: no repository, catalog, keys or packs
    expect(paths.filter((p) => p.startsWith('own-home/.bulwark-home/'))).toEqual([]);
    expect(paths).toHaveLength(5);

    const second = await runBulwark(['backup', top, '--json'], ctx);
    expect(second.code).toBe(0);
    const s = json<Manifest>(second).stats;
    expect(s).toMatchObject({ files: 2, filesNew: 0, filesChanged: 0, errorCount: 0 });
    expect(s.bytesAdded).toBeLessThan(4096); // (almost) nothing: the repository did not back itself up
  }, 60_000);

  it('a --repo folder and a --catalog file inside the backed-up folder are left out too', async () => {
    const top = path.join(tmp, 'own-repo');
    const home = path.join(tmp, 'own-repo-home');
    const repo = path.join(top, 'backups', 'repo');
    const catalog = path.join(top, 'state', 'catalog.db');
    fs.mkdirSync(path.join(top, 'docs'), { recursive: true });
    fs.writeFileSync(path.join(top, 'docs', 'a.txt'), 'alpha\n');
    const ctx = { home, tmp };
    const init = await runBulwark(['init', '--repo', repo, '--catalog', catalog], ctx);
    expect(init.code).toBe(0);

    const b = await runBulwark(['backup', '--repo', repo, '--catalog', catalog, top], ctx);
    expect(b.code).toBe(0);
    expect(b.stderr).toContain(`repository ${repo}`);
    expect(b.stderr).toContain(`catalog ${catalog}`);
    const ls = await runBulwark(['ls', '--repo', repo, '--catalog', catalog, 'latest', '--json'], ctx);
    const paths = json<{ path: string }[]>(ls).map((e) => e.path);
    expect(paths).toContain('own-repo/docs/a.txt');
    expect(paths.filter((p) => p.startsWith('own-repo/backups/') || p.startsWith('own-repo/state/'))).toEqual(
      [],
    );
  }, 60_000);

  it('a backed-up path inside its own state is refused before anything is written', async () => {
    const home = path.join(tmp, 'refuse-home');
    fs.mkdirSync(path.join(home, 'data', 'mine'), { recursive: true });
    const r = await runBulwark(['backup', path.join(home, 'data', 'mine')], { home, tmp });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/inside Bulwark's own data folder/);
    expect(fs.existsSync(path.join(home, 'data', 'repository'))).toBe(false);
  }, 60_000);
});

describe.skipIf(process.platform === 'win32')('the CLI keeps its files private', () => {
  /** Every SQLite database file (and its -wal/-shm/-journal companion) under dir, recursively. */
  const dbFiles = (dir: string): string[] =>
    (fs.readdirSync(dir, { recursive: true }) as string[])
      .filter((rel) => /\.db(-wal|-shm|-journal)?$/.test(rel))
      .map((rel) => path.join(dir, rel));

  it('after a backup: data, config and cache folders 0700, every catalog file 0600; loose folders are tightened once', async () => {
    const home = path.join(tmp, 'perm-home');
    const src = path.join(tmp, 'perm-src');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'a.txt'), 'alpha\n');
    // as an older version (or a loose umask) left them
    for (const d of ['data', 'cache']) fs.mkdirSync(path.join(home, d), { recursive: true, mode: 0o755 });
    fs.chmodSync(path.join(home, 'data'), 0o755);
    fs.chmodSync(path.join(home, 'cache'), 0o777);
    const ctx = { home, tmp };

    const first = await runBulwark(['backup', src], ctx);
    expect(first.code).toBe(0);
    for (const d of ['data', 'config', 'cache']) expect([d, mode(path.join(home, d))]).toEqual([d, '700']);
    expect(first.stderr).toContain(`${path.join(home, 'data')} was open to other accounts (mode 0755)`);
    expect(first.stderr).toContain(`${path.join(home, 'cache')} was open to other accounts (mode 0777)`);
    const dbs = dbFiles(home);
    expect(dbs.some((f) => f.endsWith('.db'))).toBe(true);
    for (const f of dbs) expect([f, mode(f)]).toEqual([f, '600']);

    // a catalog left 0644 by an older version is tightened when it is opened
    const db = dbs.find((f) => f.endsWith('.db'))!;
    fs.chmodSync(db, 0o644);
    const second = await runBulwark(['snapshots'], ctx);
    expect(second.code).toBe(0);
    expect(second.stderr).not.toMatch(/open to other accounts/); // said once
    for (const f of dbFiles(home)) expect([f, mode(f)]).toEqual([f, '600']);
  }, 60_000);
});

describe('file names with control characters on the terminal', () => {
  const evil = 'evil\u001b[2Jname';
  const newline = 'new\nline';
  const bidi = 'invoice\u202efdp.exe';

  it('ls, diff and restore escape them; ls --json gives the exact names', async () => {
    const home = path.join(tmp, 'names-home');
    const src = path.join(tmp, 'names');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, evil), 'escape\n');
    fs.writeFileSync(path.join(src, newline), 'newline\n');
    const ctx = { home, tmp };
    const first = await runBulwark(['backup', src, '--quiet'], ctx);
    expect(first.code).toBe(0);

    // a bidi name, and a socket (not recreated by a restore: an error that names it)
    fs.writeFileSync(path.join(src, bidi), 'bidi\n');
    const sock = path.join(src, `sock\u001b]0;title\u0007`);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    let second: Result;
    try {
      second = await runBulwark(['backup', src, '--quiet'], ctx);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(second.code).toBe(0);

    const ls = await runBulwark(['ls', 'latest'], ctx);
    expect(ls.code).toBe(0);
    expect(RAW_CONTROL.test(ls.stdout + ls.stderr)).toBe(false);
    expect(ls.stdout).toContain('names/evil\\x1b[2Jname');
    expect(ls.stdout).toContain('names/new\\nline');
    expect(ls.stdout).toContain('names/invoice\\u202efdp.exe');
    expect(ls.stdout.trim().split('\n')).toHaveLength(5); // the folder and four entries: no forged lines

    const lsJson = await runBulwark(['ls', 'latest', '--json'], ctx);
    expect(
      json<{ path: string }[]>(lsJson)
        .map((e) => e.path)
        .sort(),
    ).toEqual(
      [
        'names',
        `names/${evil}`,
        `names/${bidi}`,
        `names/${newline}`,
        `names/sock\u001b]0;title\u0007`,
      ].sort(),
    );

    const snaps = json<{ id: string }[]>(await runBulwark(['snapshots', '--json'], ctx));
    const diff = await runBulwark(['diff', snaps[0]!.id, snaps[1]!.id], ctx);
    expect(diff.code).toBe(0);
    expect(RAW_CONTROL.test(diff.stdout + diff.stderr)).toBe(false);
    expect(diff.stdout).toContain('+ names/invoice\\u202efdp.exe');
    expect(diff.stdout).toContain('+ names/sock\\x1b]0;title\\x07');

    const target = path.join(tmp, 'names-restored');
    const restore = await runBulwark(['restore', 'latest', '--target', target], ctx);
    expect(RAW_CONTROL.test(restore.stdout + restore.stderr)).toBe(false);
    expect(restore.stdout).toContain('names/sock\\x1b]0;title\\x07: socket not recreated');
    expect(fs.readFileSync(path.join(target, 'names', evil), 'utf8')).toBe('escape\n');

    const one = await runBulwark(['restore', `latest:names/${evil}`, '--target', `${target}-one`], ctx);
    expect(one.code).toBe(0);
    expect(RAW_CONTROL.test(one.stdout + one.stderr)).toBe(false);
    expect(one.stdout).toContain('of names/evil\\x1b[2Jname from snapshot');
  }, 90_000);
});
