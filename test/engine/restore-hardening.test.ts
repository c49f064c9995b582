import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/engine/backup/backup.ts';
import { isBulwarkError } from '../../src-main/engine/errors.ts';
import { restoreSnapshot, runRestorePlan } from '../../src-main/engine/ops/restore.ts';
import { planRestore, type PlanEntry } from '../../src-main/engine/ops/restore-plan.ts';
import { restoreName, windowsName } from '../../src-main/engine/ops/walk.ts';
import { makeFsRepo, tempDir, type TestRepo } from './helpers/repo.ts';

const isRoot = process.getuid?.() === 0;
const posix = process.platform !== 'win32';
const NOBODY = 65534;
const OLD = new Date('2001-02-03T04:05:06.789Z');

/** Restore-side warnings (setuid/setgid cleared, names renamed): not errors, nothing was skipped. */
const warningsOf = (r: object): { path: string; message: string }[] =>
  (r as { warnings?: { path: string; message: string }[] }).warnings ?? [];

let t: TestRepo;
let dirs: string[] = [];
const temp = (tag: string): string => {
  const d = tempDir(tag);
  dirs.push(d);
  return d;
};
beforeAll(async () => {
  t = await makeFsRepo('harden');
});
afterAll(() => t?.cleanup());
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

describe.runIf(posix && isRoot)('setuid / setgid bits are not restored without their owners', () => {
  it('clears S_ISUID and S_ISGID on files (owned by nobody in the backup), keeps the sticky bit on folders', async () => {
    const src = join(temp('setid-src'), 'data');
    mkdirSync(join(src, 'shared'), { recursive: true });
    writeFileSync(join(src, 'suid'), '#!/bin/sh\nid\n');
    writeFileSync(join(src, 'sgid'), '#!/bin/sh\nid\n');
    writeFileSync(join(src, 'both'), 'x');
    writeFileSync(join(src, 'plain'), 'y');
    for (const [n, mode] of [
      ['suid', 0o4755],
      ['sgid', 0o2755],
      ['both', 0o6750],
      ['plain', 0o640],
    ] as const) {
      chownSync(join(src, n), NOBODY, NOBODY); // chown first: it clears the set-id bits
      chmodSync(join(src, n), mode);
    }
    chmodSync(join(src, 'shared'), 0o1777);
    expect(statSync(join(src, 'suid')).mode & 0o7777).toBe(0o4755);
    const snap = await backup(t.repo, { paths: [src] });

    const out = join(temp('setid-out'), 'out');
    const r = await restoreSnapshot(t.repo, { snapshot: snap.id, target: out });
    expect(r.errors).toEqual([]);
    const mode = (n: string): number => lstatSync(join(out, 'data', n)).mode & 0o7777;
    expect(mode('suid')).toBe(0o755);
    expect(mode('sgid')).toBe(0o755);
    expect(mode('both')).toBe(0o750);
    expect(mode('plain')).toBe(0o640);
    expect(mode('shared')).toBe(0o1777);
    // Root restored them: they belong to root now, which is exactly why the bits had to go.
    expect(lstatSync(join(out, 'data', 'suid')).uid).toBe(0);
    // Reported (not as errors: nothing was skipped).
    expect(
      warningsOf(r)
        .map((w) => w.path)
        .sort(),
    ).toEqual(['data/both', 'data/sgid', 'data/suid']);
    expect(warningsOf(r)[0]!.message).toMatch(/setuid|setgid/);
  });
});

describe.runIf(posix)('names with a backslash or starting with ".." round-trip', () => {
  it('backs up and restores a\\b.txt, ..config, ..., and a folder ..d (whole snapshot and as the top level)', async () => {
    const src = join(temp('names-src'), 'names');
    mkdirSync(join(src, '..d', 'sub\\dir'), { recursive: true });
    const files: Record<string, string> = {
      'a\\b.txt': 'backslash',
      '..config': 'dot-dot-config',
      '...': 'three dots',
      '..foo': 'dot-dot-foo',
      '..d/inner.txt': 'inside ..d',
      '..d/sub\\dir/deep\\name': 'deep',
      '\\': 'just a backslash',
    };
    for (const [p, content] of Object.entries(files)) writeFileSync(join(src, p), content);
    const snap = await backup(t.repo, { paths: [src] });
    expect(snap.stats.errorCount).toBe(0);

    const base = temp('names-out');
    const whole = join(base, 'whole');
    const r1 = await restoreSnapshot(t.repo, { snapshot: snap.id, target: whole });
    expect(r1.errors).toEqual([]);
    for (const [p, content] of Object.entries(files))
      expect(readFileSync(join(whole, 'names', p), 'utf8'), p).toBe(content);

    // Restoring the folder itself puts the ".." names directly in the target (the case that was refused).
    const top = join(base, 'top');
    const r2 = await restoreSnapshot(t.repo, { snapshot: snap.id, subPath: 'names', target: top });
    expect(r2.errors).toEqual([]);
    expect(warningsOf(r2)).toEqual([]);
    for (const [p, content] of Object.entries(files))
      expect(readFileSync(join(top, p), 'utf8'), p).toBe(content);
    expect(readdirSync(top).sort()).toEqual(['...', '..config', '..d', '..foo', 'a\\b.txt', '\\'].sort());
    // and nothing landed next to the target
    expect(readdirSync(base).sort()).toEqual(['top', 'whole']);
  });
});

describe('restore names: the one path-safety rule, and the Windows escaping', () => {
  it('refuses exactly empty, ".", "..", and names with "/" or NUL on Linux and macOS', () => {
    for (const platform of ['linux', 'darwin'] as const) {
      for (const bad of ['', '.', '..', 'a/b', '/', '../x', 'nul\0byte', '\0'])
        expect(restoreName(bad, platform), JSON.stringify(bad)).toBeUndefined();
      for (const good of ['a\\b.txt', '..config', '...', '..\\..', '.hidden', '\\', 'con', 'a:b', 'x '])
        expect(restoreName(good, platform)).toBe(good);
    }
  });

  it('escapes names Windows cannot hold as %XX, and refuses the same unsafe names', () => {
    expect(windowsName('plain.txt')).toBe('plain.txt');
    expect(windowsName('..config')).toBe('..config');
    expect(windowsName('a\\b.txt')).toBe('a%5Cb.txt');
    expect(windowsName('a:b*c?d"e<f>g|h')).toBe('a%3Ab%2Ac%3Fd%22e%3Cf%3Eg%7Ch');
    expect(windowsName('tab\there')).toBe('tab%09here');
    expect(windowsName('...')).toBe('..%2E');
    expect(windowsName('trailing ')).toBe('trailing%20');
    expect(windowsName('CON')).toBe('%43ON');
    expect(windowsName('con.txt')).toBe('%63on.txt');
    expect(windowsName('Lpt9.tar.gz')).toBe('%4Cpt9.tar.gz');
    expect(windowsName('COM10')).toBe('COM10');
    expect(windowsName('console')).toBe('console');
    expect(windowsName('100%.txt')).toBe('100%.txt');
    expect(restoreName('a\\b.txt', 'win32')).toBe('a%5Cb.txt');
    for (const bad of ['', '.', '..', 'a/b', 'nul\0byte']) expect(restoreName(bad, 'win32')).toBeUndefined();
  });
});

describe('a plan altered after it was made', () => {
  it('never writes an entry whose name is not one plain name: "..", "a/b" are refused by the run itself', async () => {
    const src = join(temp('plain-src'), 'data');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'x.txt'), 'x');
    writeFileSync(join(src, 'sub', 'y.txt'), 'y');
    writeFileSync(join(src, 'z.txt'), 'z');
    const snap = await backup(t.repo, { paths: [src], source: 'plain-names' });
    const outer = temp('plain-out');
    const target = join(outer, 'target');
    const plan = await planRestore(t.repo, {
      snapshot: snap.id,
      paths: [''],
      destination: { kind: 'folder', path: target },
      layout: 'contents',
    });
    // the run trusts no name: the plan may have come through another hand (a service, an app)
    const entry = (name: string): PlanEntry => plan.entries.find((e) => e.name === name)!;
    entry('x.txt').name = '..';
    entry('sub').name = 'up/../..';
    const r = await runRestorePlan(t.repo, plan);
    const refused = r.errors.filter((e) => e.message.includes('outside the destination folder'));
    expect(refused.map((e) => e.path).sort()).toEqual(['data/sub', 'data/x.txt'].sort());
    // the folder's error counts the file in it that was not restored either
    expect(refused.find((e) => e.path === 'data/sub')!.message).toContain('(1 file in it not restored)');
    // z.txt is restored; nothing of the two lands beside or above the target
    expect(readFileSync(join(target, 'data', 'z.txt'), 'utf8')).toBe('z');
    expect(readdirSync(outer)).toEqual(['target']);
    expect(readdirSync(join(target, 'data')).sort()).toEqual(['z.txt']);
  });
});

describe.runIf(posix)('restore never writes through a path it checked once', () => {
  const makeSnapshot = async (): Promise<string> => {
    const src = join(temp('race-src'), 'data');
    mkdirSync(join(src, 'd', 'e'), { recursive: true });
    writeFileSync(join(src, 'd', 'e', 'f.txt'), 'deep');
    writeFileSync(join(src, 'd', 'g.txt'), 'g');
    writeFileSync(join(src, 'top.txt'), 'top');
    chmodSync(join(src, 'd', 'g.txt'), 0o604);
    utimesSync(join(src, 'd', 'g.txt'), OLD, OLD);
    chmodSync(join(src, 'd', 'e'), 0o751);
    utimesSync(join(src, 'd', 'e'), OLD, OLD);
    chmodSync(join(src, 'd'), 0o750);
    utimesSync(join(src, 'd'), OLD, OLD);
    return (await backup(t.repo, { paths: [src] })).id;
  };

  it('restores file and folder modes and mtimes exactly', async () => {
    const snap = await makeSnapshot();
    const out = join(temp('exact'), 'out');
    const r = await restoreSnapshot(t.repo, { snapshot: snap, target: out });
    expect(r.errors).toEqual([]);
    for (const [p, mode] of [
      ['data/d', 0o750],
      ['data/d/e', 0o751],
      ['data/d/g.txt', 0o604],
    ] as const) {
      const st = lstatSync(join(out, p));
      expect({ p, mode: st.mode & 0o7777, mtime: st.mtime.getTime() }).toEqual({
        p,
        mode,
        mtime: OLD.getTime(),
      });
    }
    expect(readFileSync(join(out, 'data', 'd', 'e', 'f.txt'), 'utf8')).toBe('deep');
  });

  it('restores every file mode exactly, those the umask would change and those it would not', async () => {
    const src = join(temp('modes-src'), 'modes');
    mkdirSync(src);
    // 0644, 0600, 0755, 0444, 0400 and 0700 survive the usual umask (022) as they are: created with their
    // mode; 0666, 0777, 0664 and 0646 do not: set through the descriptor after
    const modes = [0o644, 0o600, 0o755, 0o444, 0o400, 0o700, 0o666, 0o777, 0o664, 0o646];
    for (const m of modes) {
      const f = join(src, `m${m.toString(8)}`);
      writeFileSync(f, `mode ${m.toString(8)}`);
      chmodSync(f, m);
      utimesSync(f, OLD, OLD);
    }
    const snap = (await backup(t.repo, { paths: [src] })).id;
    const out = join(temp('modes'), 'out');
    const r = await restoreSnapshot(t.repo, { snapshot: snap, target: out });
    expect(r.errors).toEqual([]);
    for (const m of modes) {
      const f = join(out, 'modes', `m${m.toString(8)}`);
      const st = lstatSync(f);
      expect({ m: m.toString(8), got: (st.mode & 0o7777).toString(8), mtime: st.mtime.getTime() }).toEqual({
        m: m.toString(8),
        got: m.toString(8),
        mtime: OLD.getTime(),
      });
      if (m & 0o400) expect(readFileSync(f, 'utf8')).toBe(`mode ${m.toString(8)}`);
    }
  });

  it('symlinks planted in the target where a folder or a file goes are never followed', async () => {
    const snap = await makeSnapshot();
    const base = temp('planted');
    const outside = join(base, 'outside');
    mkdirSync(outside, { mode: 0o700 });
    utimesSync(outside, OLD, OLD);
    const out = join(base, 'out');
    mkdirSync(join(out, 'data'), { recursive: true });
    symlinkSync(outside, join(out, 'data', 'd')); // where a restored folder goes
    symlinkSync(join(outside, 'victim.txt'), join(out, 'data', 'top.txt')); // where a restored file goes
    const r = await restoreSnapshot(t.repo, { snapshot: snap, target: out });
    expect(readdirSync(outside)).toEqual([]);
    expect(statSync(outside).mtime.getTime()).toBe(OLD.getTime());
    expect(statSync(outside).mode & 0o7777).toBe(0o700);
    expect(readdirSync(base).sort()).toEqual(['out', 'outside']);
    expect(r.errors.map((e) => e.path)).toEqual(['data/d']);
    expect(lstatSync(join(out, 'data', 'd')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(out, 'data', 'top.txt')).isFile()).toBe(true);
  });

  it('a folder swapped for a symlink after its files were written gets no mode or time through the link', async () => {
    const snap = await makeSnapshot();
    const base = temp('swap');
    const outside = join(base, 'outside');
    mkdirSync(outside, { mode: 0o700 });
    utimesSync(outside, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
    const out = join(base, 'out');
    let swapped = false;
    const r = await restoreSnapshot(t.repo, {
      snapshot: snap,
      target: out,
      concurrency: 1,
      // Simulates someone racing the restore: once every file is written, data/d/e becomes a symlink.
      onProgress: (p) => {
        if (p.filesDone === p.filesTotal && !swapped) {
          swapped = true;
          renameSync(join(out, 'data', 'd', 'e'), join(base, 'moved-e'));
          symlinkSync(outside, join(out, 'data', 'd', 'e'));
        }
      },
    });
    expect(swapped).toBe(true);
    const st = statSync(outside);
    expect(st.mode & 0o7777).toBe(0o700);
    expect(st.mtime.toISOString()).toBe('2020-01-01T00:00:00.000Z');
    expect(r.errors.map((e) => e.path)).toEqual(['data/d/e']);
    // the rest still got its metadata
    expect(lstatSync(join(out, 'data', 'd')).mode & 0o7777).toBe(0o750);
  });
});

describe.runIf(posix && isRoot)('restore refuses folders another user could change', () => {
  let snap: string;
  beforeAll(async () => {
    const src = join(temp('owners-src'), 'data');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'sub', 'a.txt'), 'a');
    writeFileSync(join(src, 'b.txt'), 'b');
    snap = (await backup(t.repo, { paths: [src] })).id;
  });

  const expectRefused = async (target: string, what: RegExp): Promise<void> => {
    const err = await restoreSnapshot(t.repo, { snapshot: snap, target }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isBulwarkError(err, 'PERMISSION'), String(err)).toBe(true);
    const e = err as Error & { hint?: string };
    expect(e.message).toMatch(what);
    expect(e.message).toMatch(/another user/);
    expect(e.hint).toMatch(/folder/);
  };

  it('refuses a target folder owned by another user and writable by everyone (no sticky bit)', async () => {
    const target = join(temp('foreign-target'), 'target');
    mkdirSync(target);
    chownSync(target, NOBODY, NOBODY);
    chmodSync(target, 0o777);
    await expectRefused(target, new RegExp(basename(target)));
    expect(readdirSync(target)).toEqual([]);
  });

  it('refuses a target owned by this user but writable by everyone, and a target under such a folder', async () => {
    const base = temp('open-parent');
    const open = join(base, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    await expectRefused(open, /open/);
    const below = join(open, 'below', 'target');
    await expectRefused(below, /open/);
    expect(existsSync(join(open, 'below'))).toBe(false);
  });

  it('refuses a target reached through a symlink another user owns', async () => {
    const base = temp('foreign-link');
    mkdirSync(join(base, 'real'));
    symlinkSync(join(base, 'real'), join(base, 'alias'));
    lchownSync(join(base, 'alias'), NOBODY, NOBODY);
    await expectRefused(join(base, 'alias', 'target'), /alias/);
    expect(readdirSync(join(base, 'real'))).toEqual([]);
  });

  it('accepts a sticky world-writable target (like /tmp), a private-group-writable one, and a symlink of ours', async () => {
    const base = temp('ok-targets');
    const sticky = join(base, 'sticky');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    const r1 = await restoreSnapshot(t.repo, { snapshot: snap, target: sticky });
    expect(r1.errors).toEqual([]);
    expect(readFileSync(join(sticky, 'data', 'sub', 'a.txt'), 'utf8')).toBe('a');

    const group = join(base, 'group'); // root:root 0775: the group is root's own
    mkdirSync(group);
    chmodSync(group, 0o775);
    const r2 = await restoreSnapshot(t.repo, { snapshot: snap, target: group });
    expect(r2.errors).toEqual([]);

    mkdirSync(join(base, 'real'));
    symlinkSync(join(base, 'real'), join(base, 'alias'));
    const r3 = await restoreSnapshot(t.repo, { snapshot: snap, target: join(base, 'alias', 'target') });
    expect(r3.errors).toEqual([]);
    expect(readFileSync(join(base, 'real', 'target', 'data', 'b.txt'), 'utf8')).toBe('b');
  });

  it('closes an existing folder of ours that everyone may write to while it writes into it, then gives it its recorded mode', async () => {
    const target = join(temp('open-inner'), 'target');
    mkdirSync(join(target, 'data', 'sub'), { recursive: true });
    chmodSync(join(target, 'data', 'sub'), 0o777);
    const during: number[] = [];
    const r = await restoreSnapshot(t.repo, {
      snapshot: snap,
      target,
      onProgress: () => during.push(lstatSync(join(target, 'data', 'sub')).mode & 0o7777),
    });
    expect(r.errors).toEqual([]);
    expect(new Set(during)).toEqual(new Set([0o755]));
    expect(lstatSync(join(target, 'data', 'sub')).mode & 0o7777).toBe(0o755); // as recorded
    expect(readFileSync(join(target, 'data', 'sub', 'a.txt'), 'utf8')).toBe('a');
  });

  it('skips (and reports) an existing folder inside the target that another user can write to', async () => {
    const target = join(temp('foreign-inner'), 'target');
    mkdirSync(join(target, 'data', 'sub'), { recursive: true });
    chownSync(join(target, 'data', 'sub'), NOBODY, NOBODY);
    chmodSync(join(target, 'data', 'sub'), 0o777);
    const r = await restoreSnapshot(t.repo, { snapshot: snap, target });
    expect(r.errors.map((e) => e.path)).toEqual(['data/sub']);
    expect(r.errors[0]!.message).toMatch(/another user/);
    expect(readdirSync(join(target, 'data', 'sub'))).toEqual([]);
    expect(readFileSync(join(target, 'data', 'b.txt'), 'utf8')).toBe('b');
  });
});
