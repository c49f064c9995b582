import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, runBulwark, type Result } from './helpers.ts';

let tmp: string;
let home: string;
let repo: string;
let src: string;

function bulwark(args: string[], env: Record<string, string | undefined> = {}): Promise<Result> {
  return runBulwark(args, { home, tmp }, env);
}

/** Every file under dir: relative path -> contents. */
function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, rel);
    if (fs.statSync(p).isFile()) out[rel.split(path.sep).join('/')] = fs.readFileSync(p, 'latin1');
  }
  return out;
}

const json = <T>(r: Result): T => JSON.parse(r.stdout) as T;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  home = path.join(tmp, 'home');
  repo = path.join(tmp, 'repo');
  src = path.join(tmp, 'src');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(src, 'a.txt'), 'alpha\n');
  fs.writeFileSync(path.join(src, 'sub', 'b.txt'), 'bravo\n');
  // incompressible, so its pack is the largest one (the verify test damages it)
  fs.writeFileSync(path.join(src, 'sub', 'd.bin'), randomBytes(100_000));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('bulwark CLI', () => {
  let first = '';
  let second = '';

  it('init creates a folder repository and says it is tamper-evident', async () => {
    const r = await bulwark(['init', '--repo', repo]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/created repository [0-9a-f]{32}/);
    expect(r.stdout).toContain('tamper-evident, not immutable');
    expect(fs.existsSync(path.join(repo, 'config'))).toBe(true);
  });

  it('backup prints the snapshot id on stdout and a summary on stderr', async () => {
    const r = await bulwark(['backup', '--repo', repo, src, '--tag', 'first']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{32}\n$/);
    first = r.stdout.trim();
    expect(r.stderr).toContain('files:  3 (3 new, 0 changed, 0 unchanged)');
    expect(r.stderr).toContain('errors: none');
  });

  it('snapshots --json lists exactly the one snapshot; the table shows its short id', async () => {
    const [j, text] = await Promise.all([
      bulwark(['snapshots', '--repo', repo, '--json']),
      bulwark(['snapshots', '--repo', repo]),
    ]);
    expect(j.code).toBe(0);
    const snaps = json<{ id: string; tags?: string[]; stats: { files: number } }[]>(j);
    expect(snaps.map((s) => s.id)).toEqual([first]);
    expect(snaps[0]?.tags).toEqual(['first']);
    expect(snaps[0]?.stats.files).toBe(3);
    expect(text.stdout).toMatch(new RegExp(`^${first.slice(0, 8)}  `, 'm'));
  });

  it('ls --json lists the files (snapshot given by a unique prefix)', async () => {
    const r = await bulwark(['ls', '--repo', repo, first.slice(0, 6), '--json']);
    expect(r.code).toBe(0);
    const entries = json<{ path: string; type: string; size: number }[]>(r);
    expect(entries.map((e) => e.path).sort()).toEqual([
      'src',
      'src/a.txt',
      'src/sub',
      'src/sub/b.txt',
      'src/sub/d.bin',
    ]);
    expect(entries.find((e) => e.path === 'src/sub/d.bin')?.size).toBe(100_000);
  });

  it('restore recreates the same contents; SNAPSHOT:PATH restores only that part', async () => {
    const target = path.join(tmp, 'restored');
    const partial = path.join(tmp, 'partial');
    const [all, part] = await Promise.all([
      bulwark(['restore', '--repo', repo, first, '--target', target]),
      bulwark(['restore', '--repo', repo, 'latest:src/sub/b.txt', '--target', partial]),
    ]);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('restored 3 files');
    expect(readTree(path.join(target, 'src'))).toEqual(readTree(src));
    expect(part.code).toBe(0);
    expect(readTree(partial)).toEqual({ 'b.txt': 'bravo\n' });
  });

  it('diff shows modified, added and removed files', async () => {
    fs.writeFileSync(path.join(src, 'a.txt'), 'alpha, changed\n');
    fs.writeFileSync(path.join(src, 'c.txt'), 'charlie\n');
    fs.rmSync(path.join(src, 'sub', 'b.txt'));
    const b = await bulwark(['backup', '--repo', repo, src, '--quiet']);
    expect(b.code).toBe(0);
    expect(b.stderr).toBe('');
    second = b.stdout.trim();
    const r = await bulwark(['diff', '--repo', repo, first, second]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toContain('M src/a.txt');
    expect(lines).toContain('+ src/c.txt');
    expect(lines).toContain('- src/sub/b.txt');
    expect(lines.some((l) => l.endsWith('d.bin'))).toBe(false);
  });

  describe('errors (independent: run concurrently)', () => {
    it.concurrent('a wrong password exits 3 with the message and a hint', async () => {
      const r = await bulwark(['snapshots', '--repo', repo], { BULWARK_PASSWORD: 'not the password' });
      expect(r.code).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^bulwark: wrong password/);
      expect(r.stderr).toContain('hint:');
    });

    it.concurrent('a backup with a wrong password stops the scan it started and exits 3', async () => {
      // the scan starts before the key is tried (scan-ahead.ts): a scanner left running would keep the
      // process alive, and the command would never end
      const started = Date.now();
      const r = await bulwark(['backup', '--repo', repo, src], { BULWARK_PASSWORD: 'not the password' });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/^bulwark: wrong password/);
      expect(Date.now() - started).toBeLessThan(30_000);
    });

    it.concurrent('--password-file reads the first line', async () => {
      const file = path.join(tmp, 'pw.txt');
      fs.writeFileSync(file, `${PASSWORD}\nsecond line ignored\n`);
      const r = await bulwark(['snapshots', '--repo', repo, '--password-file', file, '--json'], {
        BULWARK_PASSWORD: undefined,
      });
      expect(r.code).toBe(0);
      expect(json<unknown[]>(r)).toHaveLength(2);
    });

    it.concurrent('no password and no terminal is a usage error that says how to give it', async () => {
      const r = await bulwark(['snapshots', '--repo', repo], { BULWARK_PASSWORD: undefined });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('no repository password given');
      expect(r.stderr).toContain('BULWARK_PASSWORD');
      expect(r.stderr).toContain('--password-file');
    });

    it.concurrent('a missing repository gives a clear error with a hint', async () => {
      const r = await bulwark(['snapshots', '--repo', path.join(tmp, 'nowhere')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('no Bulwark repository at');
      // first the likely cause (an unmounted share), never a bare "create one" that would hide the real one
      expect(r.stderr).toContain(
        'hint: Check the location: is the disk or network share connected and mounted',
      );
    });

    it.concurrent('backup of a path that does not exist fails cleanly', async () => {
      const missing = path.join(tmp, 'does-not-exist');
      const r = await bulwark(['backup', '--repo', repo, missing]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`bulwark: ${missing}: not found`);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });

    it.concurrent('init refuses Object Lock on a folder (usage error)', async () => {
      const r = await bulwark(['init', '--repo', path.join(tmp, 'locked'), '--lock-days', '30']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('needs an s3:// repository');
      expect(fs.existsSync(path.join(tmp, 'locked'))).toBe(false);
    });

    it.concurrent('bad command lines exit 2; --help documents the exit codes', async () => {
      const [unknown, help] = await Promise.all([
        bulwark(['restore', '--repo', repo, 'latest', '-t', tmp, '--no-such-option']),
        bulwark(['--help']),
      ]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("unknown option '--no-such-option'");
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Exit codes:');
    });
  });

  it('verify passes, then reports a damaged pack with the affected files', async () => {
    const ok = await bulwark(['verify', '--repo', repo, '--read-data', '--json']);
    expect(ok.code).toBe(0);
    expect(json<{ ok: boolean; snapshots: number }>(ok)).toMatchObject({ ok: true, snapshots: 2 });

    const packs = (fs.readdirSync(path.join(repo, 'packs'), { recursive: true }) as string[])
      .map((p) => path.join(repo, 'packs', p))
      .filter((p) => fs.statSync(p).isFile())
      .sort((x, y) => fs.statSync(y).size - fs.statSync(x).size);
    const victim = packs[0] ?? '';
    fs.chmodSync(victim, 0o644);
    const bytes = fs.readFileSync(victim);
    bytes[40] = (bytes[40] ?? 0) ^ 0xff;
    fs.writeFileSync(victim, bytes);

    const r = await bulwark(['verify', '--repo', repo, '--read-data']);
    expect(r.code).toBe(1);
    const name = `packs/${path.basename(path.dirname(victim))}/${path.basename(victim)}`;
    expect(r.stdout).toContain(`problem 1: damaged-pack: ${name}`);
    // d.bin is unchanged in the second snapshot: both name it
    expect(r.stdout).toContain('affected files (2):');
    expect(r.stdout).toContain(`\n    ${first}:src/sub/d.bin\n`);
    expect(r.stdout).toContain(`\n    ${second}:src/sub/d.bin\n`);
    expect(r.stderr).toContain('verify found 1 problem');
  });

  it('repair --rebuild-catalog rebuilds a deleted catalog', async () => {
    const catalogs = path.join(home, 'data', 'catalogs');
    for (const f of fs.readdirSync(catalogs)) fs.rmSync(path.join(catalogs, f));
    const r = await bulwark(['repair', '--repo', repo, '--rebuild-catalog', '--json']);
    expect(r.code).toBe(0);
    expect(json<{ snapshots: number; indexes: number }>(r)).toMatchObject({ snapshots: 2, indexes: 2 });
    const s = await bulwark(['snapshots', '--repo', repo, '--json']);
    expect(json<{ id: string }[]>(s).map((x) => x.id)).toEqual([first, second]);
  });

  it('a damaged catalog is rebuilt by the next command; repair moves one aside and rebuilds it', async () => {
    const catalogs = path.join(home, 'data', 'catalogs');
    const [file] = fs.readdirSync(catalogs).filter((f) => f.endsWith('.db'));
    fs.writeFileSync(path.join(catalogs, file ?? 'x.db'), 'this is not a database'.repeat(300));
    const broken = await bulwark(['snapshots', '--repo', repo]);
    expect(broken.code).toBe(0);
    expect(broken.stderr).toContain('rebuilt the catalog from the repository (2 snapshots)');
    fs.writeFileSync(path.join(catalogs, file ?? 'x.db'), 'this is not a database'.repeat(300));
    const r = await bulwark(['repair', '--repo', repo, '--rebuild-catalog']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 snapshots');
    expect(fs.readdirSync(catalogs).some((f) => f.includes('.broken-'))).toBe(true);
  });

  it('without --repo the default repository is created, with a 0600 key file', async () => {
    const r = await bulwark(['backup', src], { BULWARK_PASSWORD: undefined });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('created the default repository');
    const keyFile = path.join(home, 'config', 'default-repository.password');
    expect(fs.readFileSync(keyFile, 'utf8')).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    if (process.platform !== 'win32') {
      expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.dirname(keyFile)).mode & 0o777).toBe(0o700);
    }
    const s = await bulwark(['snapshots', '--json'], {
      BULWARK_PASSWORD: 'ignored for the default repository',
    });
    expect(s.code).toBe(0);
    expect(json<{ id: string }[]>(s).map((x) => x.id)).toEqual([r.stdout.trim()]);
  });
});
