/**
 * Names are bytes: file names and symlink targets that are not valid UTF-8 (Latin-1 names from old Samba
 * or NAS shares) are backed up, listed (escaped) and restored byte for byte; nothing the scanner cannot
 * read is skipped without a word.
 */
import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  renameSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { termSafe } from '../../src-main/cli/format.ts';
import { backup } from '../../src-main/engine/backup/backup.ts';
import { listDir, scanIo, VANISHED_MESSAGE, type ScanIo } from '../../src-main/engine/backup/entry.ts';
import { listSnapshot } from '../../src-main/engine/ops/ls.ts';
import { restoreSnapshot } from '../../src-main/engine/ops/restore.ts';
import { PASSWORD, runBulwark } from '../cli/helpers.ts';
import { makeFsRepo, tempDirs, type TestRepo } from './helpers/repo.ts';

const posix = process.platform !== 'win32';
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
/** A path whose last components are raw bytes (Node's string paths cannot say them). */
const raw = (dir: string, ...parts: Buffer[]): Buffer =>
  Buffer.concat([Buffer.from(dir), ...parts.flatMap((p) => [Buffer.from('/'), p])]);

/** Every entry under `dir`, by raw name bytes (hex-free: latin1 keeps one char per byte), recursively. */
function tree(dir: Buffer): Map<string, { type: string; content?: Buffer; target?: Buffer }> {
  const out = new Map<string, { type: string; content?: Buffer; target?: Buffer }>();
  const walk = (p: Buffer, rel: string): void => {
    for (const name of readdirSync(p, { encoding: 'buffer' })) {
      const q = Buffer.concat([p, Buffer.from('/'), name]);
      const r = rel ? `${rel}/${name.toString('latin1')}` : name.toString('latin1');
      const st = lstatSync(q);
      if (st.isDirectory()) {
        out.set(r, { type: 'dir' });
        walk(q, r);
      } else if (st.isSymbolicLink())
        out.set(r, { type: 'symlink', target: readlinkSync(q, { encoding: 'buffer' }) });
      else out.set(r, { type: 'file', content: readFileSync(q) });
    }
  };
  walk(dir, '');
  return out;
}

let t: TestRepo;
const scratch = tempDirs();
const temp = scratch.temp;
beforeAll(async () => {
  t = await makeFsRepo('names');
});
afterAll(() => {
  t?.cleanup();
  scratch.removeAll();
});

/** The share of the issue: two Latin-1 names, a link to one of them, and ordinary UTF-8 names with accents. */
function makeShare(root: string): void {
  mkdirSync(root);
  writeFileSync(raw(root, latin1('caf\xe9.txt')), 'menu du jour\n');
  mkdirSync(raw(root, latin1('Kunden-M\xfcller')));
  writeFileSync(raw(root, latin1('Kunden-M\xfcller'), latin1('Vertrag.pdf')), '%PDF-1.4 contract\n');
  symlinkSync(latin1('caf\xe9.txt'), raw(root, latin1('link-to-caf\xe9')));
  writeFileSync(join(root, 'Café-Übersicht.txt'), 'utf-8 name\n');
  mkdirSync(join(root, 'Ärger'));
  writeFileSync(join(root, 'Ärger', 'naïve 💀.txt'), 'more\n');
  // the UTF-8 bytes of a surrogate: not valid UTF-8, three escaped bytes
  writeFileSync(raw(root, Buffer.from([0x78, 0xed, 0xb3, 0xa9])), 'surrogate bytes\n');
}

describe.runIf(posix)('names that are not UTF-8', () => {
  it('are backed up, listed escaped and restored byte for byte (names, contents, link targets)', async () => {
    const src = join(temp('names-src'), 'share');
    makeShare(src);
    const snap = await backup(t.repo, { paths: [src] });
    expect(snap.stats.errors).toEqual([]);
    expect(snap.stats.errorCount).toBe(0);
    expect(snap.stats.files).toBe(5);

    const listed = await listSnapshot(t.repo, snap.id);
    const shown = listed.map((e) => termSafe(e.path)).sort();
    expect(shown).toEqual(
      [
        'share',
        'share/Café-Übersicht.txt',
        'share/Kunden-M\\xfcller',
        'share/Kunden-M\\xfcller/Vertrag.pdf',
        'share/caf\\xe9.txt',
        'share/link-to-caf\\xe9',
        'share/x\\xed\\xb3\\xa9',
        'share/Ärger',
        'share/Ärger/naïve 💀.txt',
      ].sort(),
    );
    expect(termSafe(listed.find((e) => e.type === 'symlink')!.target!)).toBe('caf\\xe9.txt');

    const out = temp('names-out');
    const r = await restoreSnapshot(t.repo, { snapshot: snap.id, target: out });
    expect(r.errors).toEqual([]);
    expect(r.files).toBe(5);
    const before = tree(Buffer.from(src));
    const after = tree(Buffer.from(join(out, 'share')));
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    expect(after).toEqual(before);
    expect(after.get('link-to-caf\xe9')!.target!.equals(latin1('caf\xe9.txt'))).toBe(true);
    expect(after.get('Kunden-M\xfcller/Vertrag.pdf')!.content!.toString()).toBe('%PDF-1.4 contract\n');
  });

  it('a second backup finds them unchanged, and a path shown escaped by ls can be restored', async () => {
    const src = join(temp('names-src2'), 'share');
    makeShare(src);
    const first = await backup(t.repo, { paths: [src] });
    const second = await backup(t.repo, { paths: [src] });
    expect(second.stats.filesUnchanged).toBe(5);
    expect(second.tree).toBe(first.tree);
    // what `bulwark ls` printed, typed back: share/Kunden-M\xfcller
    const sub = await listSnapshot(t.repo, second.id, 'share/Kunden-M\\xfcller');
    expect(sub.map((e) => termSafe(e.path))).toEqual([
      'share/Kunden-M\\xfcller',
      'share/Kunden-M\\xfcller/Vertrag.pdf',
    ]);
    expect(sub.map((e) => e.type)).toEqual(['dir', 'file']);
    const out = temp('names-sub');
    const r = await restoreSnapshot(t.repo, {
      snapshot: second.id,
      subPath: 'share/Kunden-M\\xfcller/Vertrag.pdf',
      target: out,
    });
    expect(r.errors).toEqual([]);
    expect(readdirSync(out)).toEqual(['Vertrag.pdf']);
  });

  it('a backed-up path that is not UTF-8 itself (API callers pass the escaped string)', async () => {
    const base = temp('names-root');
    mkdirSync(raw(base, latin1('Kunden-M\xfcller')));
    writeFileSync(raw(base, latin1('Kunden-M\xfcller'), latin1('R\xe9sum\xe9.doc')), 'cv');
    symlinkSync(latin1('R\xe9sum\xe9.doc'), raw(base, latin1('lien-\xe9')));
    const snap = await backup(t.repo, {
      paths: [join(base, 'Kunden-M\udcfcller'), join(base, 'lien-\udce9')],
    });
    expect(snap.stats.errors).toEqual([]);
    expect(snap.stats.files).toBe(1);
    const out = temp('names-root-out');
    const r = await restoreSnapshot(t.repo, { snapshot: snap.id, target: out });
    expect(r.errors).toEqual([]);
    const got = tree(Buffer.from(out));
    expect([...got.keys()].sort()).toEqual([
      'Kunden-M\xfcller',
      'Kunden-M\xfcller/R\xe9sum\xe9.doc',
      'lien-\xe9',
    ]);
    expect(got.get('lien-\xe9')!.target!.equals(latin1('R\xe9sum\xe9.doc'))).toBe(true);
  });

  it('the CLI prints them escaped; --json keeps them exact (\\udcXX)', async () => {
    const tmp = temp('names-cli');
    const home = join(tmp, 'home');
    const repo = join(tmp, 'repo');
    const src = join(tmp, 'share');
    makeShare(src);
    const run = (args: string[]): ReturnType<typeof runBulwark> => runBulwark(args, { home, tmp });
    expect((await run(['init', '--repo', repo])).code).toBe(0);
    const b = await run(['backup', '--repo', repo, src]);
    expect(b.stderr).toMatch(/errors: none/);
    expect(b.stderr).toMatch(/files: +5 \(5 new/);
    expect(b.code).toBe(0);
    const ls = await run(['ls', '--repo', repo, 'latest']);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toContain('share/caf\\xe9.txt');
    expect(ls.stdout).toContain('share/Kunden-M\\xfcller/Vertrag.pdf');
    expect(ls.stdout).toContain('share/link-to-caf\\xe9 -> caf\\xe9.txt');
    expect(ls.stdout).not.toContain('\ufffd');
    const json = await run(['ls', '--repo', repo, 'latest', '--json']);
    expect(json.stdout).toContain('"share/caf\\udce9.txt"');
    const entries = JSON.parse(json.stdout) as { path: string }[];
    expect(entries.map((e) => e.path)).toContain('share/Kunden-M\udcfcller/Vertrag.pdf');
    void PASSWORD;
  });
});

describe.runIf(posix)('the scanner reports what it cannot record', () => {
  it('a path that vanishes between readdir and lstat is reported as vanished, not skipped silently', () => {
    const dir = temp('vanish');
    writeFileSync(join(dir, 'keep.txt'), 'k');
    writeFileSync(join(dir, 'victim.txt'), 'v');
    const io: ScanIo = {
      ...scanIo,
      readdir: (d) => {
        const names = scanIo.readdir(d);
        unlinkSync(join(dir, 'victim.txt')); // gone right after the listing
        return names;
      },
    };
    const l = listDir(dir, () => true, io);
    expect(l.entries.map((e) => e.name)).toEqual(['keep.txt']);
    expect(l.skipped).toEqual([{ path: join(dir, 'victim.txt'), message: VANISHED_MESSAGE }]);
  });

  it('a symlink replaced by a file between lstat and readlink is reported with the error', () => {
    const dir = temp('relink');
    symlinkSync('elsewhere', join(dir, 'link'));
    const io: ScanIo = {
      ...scanIo,
      lstat: (p) => {
        const st = scanIo.lstat(p);
        unlinkSync(p);
        writeFileSync(p, 'now a file');
        return st;
      },
    };
    const l = listDir(dir, () => true, io);
    expect(l.entries).toEqual([]);
    expect(l.skipped).toHaveLength(1);
    expect(l.skipped[0]!.path).toBe(join(dir, 'link'));
    expect(l.skipped[0]!.message).toMatch(/EINVAL.*readlink/);
  });

  it('an entry whose full path is too long for lstat is in the snapshot errors', async () => {
    const base = temp('deep');
    // a folder path just under PATH_MAX (4096), holding a name that takes the full path over it
    let deep = base;
    while (deep.length < 3900) deep = join(deep, 'd'.repeat(Math.min(200, 3900 - deep.length)));
    mkdirSync(deep, { recursive: true });
    const long = 'f'.repeat(250);
    execFileSync('sh', ['-c', `cd "$1" && printf data > "$2" && printf ok > short.txt`, 'sh', deep, long]);
    const snap = await backup(t.repo, { paths: [base] });
    expect(snap.stats.errorCount).toBe(1);
    expect(snap.stats.errors[0]!.path).toBe(join(deep, long));
    expect(snap.stats.errors[0]!.message).toMatch(/ENAMETOOLONG/);
    expect(snap.stats.files).toBe(1); // short.txt
    renameSync(base, `${base}-x`); // rmSync cannot remove it by its long path either: shorten first
    execFileSync('rm', ['-rf', `${base}-x`]);
  });
});
