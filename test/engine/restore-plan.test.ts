/**
 * Restore plans (ops/restore-plan.ts, ops/restore.ts runRestorePlan): what a restore will do is decided
 * before anything is written (create, identical, conflict), each conflict policy does exactly what it says
 * on disk, a destination that changes between the plan and the run is a conflict (never overwritten
 * silently), and a canceled restore leaves no half-written file under a real name.
 */
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/engine/backup/backup.ts';
import { FakeClock } from '../../src-main/engine/clock.ts';
import { isBulwarkError } from '../../src-main/engine/errors.ts';
import { restoreSnapshot, runRestorePlan } from '../../src-main/engine/ops/restore.ts';
import { keepBothLabel, keepBothName, takeFreeName } from '../../src-main/engine/ops/restore-place.ts';
import { planItems, planRestore, type RestorePlan } from '../../src-main/engine/ops/restore-plan.ts';
import { makeFsRepo, tempDirs, type TestRepo } from './helpers/repo.ts';

let t: TestRepo;
const scratch = tempDirs();
const temp = scratch.temp;
beforeAll(async () => {
  t = await makeFsRepo('plan');
});
afterAll(() => {
  t?.cleanup();
  scratch.removeAll();
});

const MTIME = new Date('2026-03-01T09:00:00Z');
const OLD = new Date('2020-01-01T00:00:00Z');
const NEW = new Date('2030-01-01T00:00:00Z');

/** A folder `docs` with a few files (all dated MTIME), backed up; returns the snapshot and the folder. */
async function docsSnapshot(): Promise<{ snap: string; src: string; content: Map<string, Buffer> }> {
  const src = join(temp('plan-src'), 'docs');
  mkdirSync(join(src, 'sub'), { recursive: true });
  const content = new Map<string, Buffer>([
    ['a.txt', Buffer.from('alpha\n')],
    ['b.txt', Buffer.from('bravo\n')],
    ['c.txt', Buffer.from('charlie\n')],
    ['d.bin', randomBytes(600_000)], // several chunks
    ['sub/e.txt', Buffer.from('echo\n')],
    ['sub/f.txt', Buffer.from('foxtrot\n')],
  ]);
  for (const [rel, data] of content) {
    writeFileSync(join(src, rel), data);
    utimesSync(join(src, rel), MTIME, MTIME);
  }
  symlinkSync('a.txt', join(src, 'link'));
  lutimesSync(join(src, 'link'), MTIME, MTIME);
  const snap = await backup(t.repo, { paths: [src] });
  return { snap: snap.id, src, content };
}

const actions = (plan: RestorePlan): Record<string, string> =>
  Object.fromEntries(planItems(plan).map((i) => [i.path, i.action]));

/** Every name under `dir`, relative, sorted. */
const listAll = (dir: string): string[] =>
  (readdirSync(dir, { recursive: true }) as string[]).map((p) => p.split('\\').join('/')).sort();

/**
 * A destination that already holds some of docs: a.txt identical (same bytes and time), b.txt with the same
 * size and time but other bytes, c.txt shorter, d.bin identical, `link` a file where the link goes;
 * sub/ and the rest missing.
 */
function prepared(content: Map<string, Buffer>): string {
  const out = temp('plan-out');
  mkdirSync(join(out, 'docs'));
  const put = (rel: string, data: Buffer | string, when = MTIME): void => {
    writeFileSync(join(out, 'docs', rel), data);
    utimesSync(join(out, 'docs', rel), when, when);
  };
  put('a.txt', content.get('a.txt')!);
  put('b.txt', 'BRAVO\n'); // same size and time, other content: only reading it tells
  put('c.txt', 'short');
  put('d.bin', content.get('d.bin')!);
  put('link', 'a file where the link goes');
  return out;
}

describe('a restore plan', () => {
  it('says create, identical or conflict for every file, comparing contents only where size and time agree', async () => {
    const { snap, content } = await docsSnapshot();
    const out = prepared(content);
    const before = listAll(out);
    const plan = await planRestore(t.repo, {
      snapshot: snap,
      paths: ['docs'],
      destination: { kind: 'folder', path: out },
    });
    expect(actions(plan)).toEqual({
      'docs/a.txt': 'identical',
      'docs/b.txt': 'conflict',
      'docs/c.txt': 'conflict',
      'docs/d.bin': 'identical',
      'docs/link': 'conflict',
      'docs/sub/e.txt': 'create',
      'docs/sub/f.txt': 'create',
    });
    expect(plan.totals).toEqual({
      files: 7,
      bytes: [...content.values()].reduce((n, b) => n + b.length, 0),
      create: 2,
      identical: 2,
      conflicts: 3,
    });
    // conflicts first, with what is there
    const items = planItems(plan);
    expect(items.slice(0, 3).map((i) => i.action)).toEqual(['conflict', 'conflict', 'conflict']);
    expect(items.find((i) => i.path === 'docs/c.txt')).toMatchObject({
      destination: join(out, 'docs', 'c.txt'),
      size: 8,
      existing: { size: 5 },
    });
    // a file two folders down goes under both (each entry keeps only its own name)
    expect(items.find((i) => i.path === 'docs/sub/f.txt')?.destination).toBe(
      join(out, 'docs', 'sub', 'f.txt'),
    );
    // a planned file keeps what the run restores, not what it does not (times other than mtime, inode)
    const planned = plan.entries.find((e) => e.path === 'docs/sub/e.txt')!.node;
    expect(planned).toMatchObject({
      type: 'file',
      name: 'e.txt',
      size: content.get('sub/e.txt')!.length,
    });
    expect(planned.mtimeNs).toMatch(/^\d+$/);
    expect(planned.content?.length).toBeGreaterThan(0);
    expect(planned.ctimeNs).toBeUndefined();
    expect(planned.inode).toBeUndefined();
    // planning wrote nothing
    expect(listAll(out)).toEqual(before);

    // a single file, and the folder's contents straight into the destination
    const one = await planRestore(t.repo, {
      snapshot: snap,
      paths: ['docs/sub/e.txt'],
      destination: { kind: 'folder', path: join(out, 'docs', 'sub') },
    });
    expect(planItems(one).map((i) => [i.destination, i.action])).toEqual([
      [join(out, 'docs', 'sub', 'e.txt'), 'create'],
    ]);
    const contents = await planRestore(t.repo, {
      snapshot: snap,
      paths: ['docs'],
      destination: { kind: 'folder', path: join(out, 'docs') },
      layout: 'contents',
    });
    expect(actions(contents)).toEqual(actions(plan));
  });

  it('two selections landing on one name: the first is planned whole, the second is reported and left out', async () => {
    const src = join(temp('plan-same-name'), 'two');
    for (const [rel, text] of [
      ['a/sub/x.txt', 'x\n'],
      ['a/sub/deeper/z.txt', 'z\n'],
      ['b/sub/y.txt', 'y\n'],
    ] as const) {
      mkdirSync(join(src, rel, '..'), { recursive: true });
      writeFileSync(join(src, rel), text);
    }
    const snap = await backup(t.repo, { paths: [src] });
    const out = temp('plan-same-name-out');
    const plan = await planRestore(t.repo, {
      snapshot: snap.id,
      paths: ['two/a/sub', 'two/b/sub'],
      destination: { kind: 'folder', path: out },
    });
    expect(plan.entries.map((e) => e.path)).toEqual([
      'two/a/sub',
      'two/a/sub/deeper',
      'two/a/sub/deeper/z.txt',
      'two/a/sub/x.txt',
    ]);
    expect(plan.errors).toEqual([
      { path: 'two/b/sub', message: 'another selected entry is restored to the same name: skipped' },
    ]);
    expect(planItems(plan).map((i) => i.destination)).toEqual([
      join(out, 'sub', 'deeper', 'z.txt'),
      join(out, 'sub', 'x.txt'),
    ]);
    const r = await runRestorePlan(t.repo, plan);
    expect(r.files).toBe(2);
    expect(readFileSync(join(out, 'sub', 'x.txt'), 'utf8')).toBe('x\n');
    expect(existsSync(join(out, 'sub', 'y.txt'))).toBe(false);
  });

  it('refuses to run with conflicts and no policy, before writing anything', async () => {
    const { snap, content } = await docsSnapshot();
    const out = prepared(content);
    const before = listAll(out);
    const plan = await planRestore(t.repo, {
      snapshot: snap,
      paths: ['docs'],
      destination: { kind: 'folder', path: out },
    });
    const e = await runRestorePlan(t.repo, plan).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isBulwarkError(e, 'ALREADY_EXISTS')).toBe(true);
    expect(listAll(out)).toEqual(before);
  });

  it('overwrite replaces the conflicts; identical files are left as they are', async () => {
    const { snap, content } = await docsSnapshot();
    const out = prepared(content);
    const identicalInode = statSync(join(out, 'docs', 'a.txt')).ino;
    const plan = await planRestore(t.repo, {
      snapshot: snap,
      paths: ['docs'],
      destination: { kind: 'folder', path: out },
    });
    const r = await runRestorePlan(t.repo, plan, { onConflict: 'overwrite' });
    expect(r).toMatchObject({ files: 4, links: 1, identical: 2, skipped: 0, keptBoth: 0, errors: [] });
    for (const [rel, data] of content) expect(readFileSync(join(out, 'docs', rel)).equals(data)).toBe(true);
    expect(lstatSync(join(out, 'docs', 'link')).isSymbolicLink()).toBe(true);
    expect(statSync(join(out, 'docs', 'a.txt')).ino).toBe(identicalInode); // not rewritten
    expect(listAll(out).filter((n) => n.includes('.bulwark-'))).toEqual([]);
  });

  it('skip leaves every conflicting file untouched, byte for byte and time', async () => {
    const { snap, content } = await docsSnapshot();
    const out = prepared(content);
    const snapshotOf = (rel: string) => ({
      data: readFileSync(join(out, 'docs', rel)),
      mtime: lstatSync(join(out, 'docs', rel)).mtimeMs,
      ino: lstatSync(join(out, 'docs', rel)).ino,
    });
    const kept = ['b.txt', 'c.txt', 'link'].map((rel) => [rel, snapshotOf(rel)] as const);
    const plan = await planRestore(t.repo, {
      snapshot: snap,
      paths: ['docs'],
      destination: { kind: 'folder', path: out },
    });
    const r = await runRestorePlan(t.repo, plan, { onConflict: 'skip' });
    expect(r).toMatchObject({ files: 2, identical: 2, skipped: 3, keptBoth: 0, errors: [] });
    for (const [rel, before] of kept) expect(snapshotOf(rel)).toEqual(before);
    expect(readFileSync(join(out, 'docs', 'sub', 'e.txt'), 'utf8')).toBe('echo\n');
  });

  it('keep-both restores beside the existing file as "NAME (restored DATE TIME).EXT", never over a name', async () => {
    const { snap, content } = await docsSnapshot();
    const out = prepared(content);
    const clock = new FakeClock(Date.UTC(2026, 10, 28, 14, 5));
    const label = keepBothLabel(clock.now());
    expect(label).toMatch(/^restored \d{4}-\d\d-\d\d \d\d\.\d\d$/);
    // the first kept-both name is taken already: the copy gets " 2"
    writeFileSync(join(out, 'docs', `c (${label}).txt`), 'in the way');
    const plan = await planRestore(t.repo, {
      snapshot: snap,
      paths: ['docs'],
      destination: { kind: 'folder', path: out },
    });
    const r = await runRestorePlan(t.repo, plan, { onConflict: 'keep-both', clock });
    expect(r).toMatchObject({ files: 4, links: 1, identical: 2, skipped: 0, keptBoth: 3, errors: [] });
    const d = (rel: string): string => join(out, 'docs', rel);
    expect(readFileSync(d('b.txt'), 'utf8')).toBe('BRAVO\n');
    expect(readFileSync(d(`b (${label}).txt`), 'utf8')).toBe('bravo\n');
    expect(readFileSync(d('c.txt'), 'utf8')).toBe('short');
    expect(readFileSync(d(`c (${label}).txt`), 'utf8')).toBe('in the way');
    expect(readFileSync(d(`c (${label}) 2.txt`), 'utf8')).toBe('charlie\n');
    expect(readFileSync(d('link'), 'utf8')).toBe('a file where the link goes');
    expect(lstatSync(d(`link (${label})`)).isSymbolicLink()).toBe(true);
    expect(r.warnings.map((w) => w.path).sort()).toEqual(['docs/b.txt', 'docs/c.txt', 'docs/link']);
  });

  it('if-newer replaces an older file and keeps a newer one', async () => {
    const { snap, content } = await docsSnapshot();
    const out = prepared(content);
    utimesSync(join(out, 'docs', 'b.txt'), OLD, OLD); // older than the snapshot's: replaced
    utimesSync(join(out, 'docs', 'c.txt'), NEW, NEW); // newer: kept
    const plan = await planRestore(t.repo, {
      snapshot: snap,
      paths: ['docs'],
      destination: { kind: 'folder', path: out },
    });
    const r = await runRestorePlan(t.repo, plan, { onConflict: 'if-newer' });
    expect(readFileSync(join(out, 'docs', 'b.txt'), 'utf8')).toBe('bravo\n');
    expect(statSync(join(out, 'docs', 'b.txt')).mtime.getTime()).toBe(MTIME.getTime());
    expect(readFileSync(join(out, 'docs', 'c.txt'), 'utf8')).toBe('short');
    expect(statSync(join(out, 'docs', 'c.txt')).mtime.getTime()).toBe(NEW.getTime());
    // the file where the link goes is dated MTIME, as the link: not newer, kept
    expect(r).toMatchObject({ files: 3, identical: 2, skipped: 2, errors: [] });
  });

  it('treats what changed between the plan and the run as a conflict under the policy', async () => {
    const { snap } = await docsSnapshot();
    const out = temp('race-out');
    const d = (rel: string): string => join(out, 'docs', rel);
    const plan = await planRestore(t.repo, {
      snapshot: snap,
      paths: ['docs'],
      destination: { kind: 'folder', path: out },
    });
    expect(new Set(Object.values(actions(plan)))).toEqual(new Set(['create']));
    // meanwhile someone saves a file where the plan found nothing
    mkdirSync(d('sub'), { recursive: true });
    writeFileSync(d('sub/e.txt'), 'written after the plan');
    // without a policy it is left alone and reported; the rest is restored
    const plain = await runRestorePlan(t.repo, plan);
    expect(plain.errors.map((e) => e.path)).toEqual(['docs/sub/e.txt']);
    expect(plain.errors[0]?.message).toMatch(/after the restore was planned/);
    expect(readFileSync(d('sub/e.txt'), 'utf8')).toBe('written after the plan');
    expect(readFileSync(d('sub/f.txt'), 'utf8')).toBe('foxtrot\n');
    expect(plain).toMatchObject({ files: 5, links: 1 });

    // planned again: e.txt is a conflict, the rest identical; then two identical files are edited
    const again = await planRestore(t.repo, {
      snapshot: snap,
      paths: ['docs'],
      destination: { kind: 'folder', path: out },
    });
    expect(again.totals).toMatchObject({ create: 0, identical: 6, conflicts: 1 });
    writeFileSync(d('a.txt'), 'edited after the second plan');
    writeFileSync(d('sub/f.txt'), 'edited too');
    const skip = await runRestorePlan(t.repo, again, { onConflict: 'skip' });
    expect(skip).toMatchObject({ files: 0, identical: 4, skipped: 3, errors: [] });
    expect(readFileSync(d('a.txt'), 'utf8')).toBe('edited after the second plan');
    expect(readFileSync(d('sub/f.txt'), 'utf8')).toBe('edited too');
    expect(readFileSync(d('sub/e.txt'), 'utf8')).toBe('written after the plan');

    // keep-both: what changed after the plan keeps its name, the restored copy goes beside it
    const third = await planRestore(t.repo, {
      snapshot: snap,
      paths: ['docs/sub'],
      destination: { kind: 'folder', path: join(out, 'docs') },
    });
    expect(actions(third)).toEqual({ 'docs/sub/e.txt': 'conflict', 'docs/sub/f.txt': 'conflict' });
    const clock = new FakeClock(Date.UTC(2026, 10, 28, 14, 5));
    const label = keepBothLabel(clock.now());
    writeFileSync(d('sub/f.txt'), 'edited once more');
    const kb = await runRestorePlan(t.repo, third, { onConflict: 'keep-both', clock });
    expect(kb).toMatchObject({ files: 2, keptBoth: 2, errors: [] });
    expect(readFileSync(d('sub/f.txt'), 'utf8')).toBe('edited once more');
    expect(readFileSync(d(`sub/f (${label}).txt`), 'utf8')).toBe('foxtrot\n');
    expect(readFileSync(d(`sub/e (${label}).txt`), 'utf8')).toBe('echo\n');
  });

  it('restores to the original location (in place): what was deleted is created, what changed is a conflict', async () => {
    const { snap, src, content } = await docsSnapshot();
    rmSync(join(src, 'sub', 'e.txt'));
    writeFileSync(join(src, 'b.txt'), 'edited since the backup');
    const plan = await planRestore(t.repo, {
      snapshot: snap,
      paths: ['docs'],
      destination: { kind: 'original' },
    });
    expect(plan.destination).toBe(src);
    const a = actions(plan);
    expect(a['docs/sub/e.txt']).toBe('create');
    expect(a['docs/b.txt']).toBe('conflict');
    expect(a['docs/a.txt']).toBe('identical');
    expect(planItems(plan).find((i) => i.path === 'docs/sub/e.txt')?.destination).toBe(
      join(src, 'sub', 'e.txt'),
    );
    const r = await runRestorePlan(t.repo, plan, { onConflict: 'overwrite' });
    expect(r.errors).toEqual([]);
    expect(r.files).toBe(2);
    for (const [rel, data] of content) expect(readFileSync(join(src, rel)).equals(data)).toBe(true);

    // one file of it, in place
    rmSync(join(src, 'sub', 'f.txt'));
    const one = await planRestore(t.repo, {
      snapshot: snap,
      paths: ['docs/sub/f.txt'],
      destination: { kind: 'original' },
    });
    expect(planItems(one).map((i) => [i.destination, i.action])).toEqual([
      [join(src, 'sub', 'f.txt'), 'create'],
    ]);
    await runRestorePlan(t.repo, one);
    expect(readFileSync(join(src, 'sub', 'f.txt'), 'utf8')).toBe('foxtrot\n');
  });

  it('restoreSnapshot (the plan carried out at once) overwrites by default and counts identical files', async () => {
    const { snap, content } = await docsSnapshot();
    const out = prepared(content);
    const r = await restoreSnapshot(t.repo, { snapshot: snap, target: out });
    expect(r).toMatchObject({ files: 4, links: 1, identical: 2, errors: [] });
    expect(readFileSync(join(out, 'docs', 'b.txt'), 'utf8')).toBe('bravo\n');
  });
});

describe('taking a name (ops/restore-place.ts)', () => {
  it('builds kept-both names: extension, none, a dotfile, a counter, and shortened when too long', () => {
    const label = 'restored 2026-11-28 14.05';
    expect(keepBothName('report.xlsx', label, 1)).toBe('report (restored 2026-11-28 14.05).xlsx');
    expect(keepBothName('report.xlsx', label, 3)).toBe('report (restored 2026-11-28 14.05) 3.xlsx');
    expect(keepBothName('README', label, 1)).toBe('README (restored 2026-11-28 14.05)');
    expect(keepBothName('.bashrc', label, 1)).toBe('.bashrc (restored 2026-11-28 14.05)');
    const long = keepBothName(`${'é'.repeat(120)}.txt`, label, 2);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(255);
    expect(long.endsWith(`(${label}) 2.txt`)).toBe(true);
  });

  it('never takes a name that is there: the temporary file stays, the existing one is untouched', () => {
    const dir = temp('take');
    writeFileSync(join(dir, 'tmp'), 'new');
    writeFileSync(join(dir, 'taken'), 'old');
    expect(takeFreeName(join(dir, 'tmp'), join(dir, 'taken'))).toBe(false);
    expect(readFileSync(join(dir, 'taken'), 'utf8')).toBe('old');
    expect(takeFreeName(join(dir, 'tmp'), join(dir, 'free'))).toBe(true);
    expect(readFileSync(join(dir, 'free'), 'utf8')).toBe('new');
    expect(existsSync(join(dir, 'tmp'))).toBe(false);
  });
});

describe('a file created at its name while it is being written', () => {
  it('is never replaced: reported without a policy, kept beside with keep-both, replaced only with overwrite', async () => {
    const src = join(temp('late-src'), 'late');
    mkdirSync(src);
    const data = randomBytes(40 << 20); // written in 4 MiB steps: time to put a file in its way
    writeFileSync(join(src, 'big.bin'), data);
    const snap = await backup(t.repo, { paths: [src] });
    const clock = new FakeClock(Date.UTC(2026, 10, 28, 14, 5));
    const label = keepBothLabel(clock.now());
    for (const policy of [undefined, 'keep-both', 'overwrite'] as const) {
      const out = temp('late-out');
      const plan = await planRestore(t.repo, {
        snapshot: snap.id,
        paths: ['late'],
        destination: { kind: 'folder', path: out },
      });
      expect(actions(plan)).toEqual({ 'late/big.bin': 'create' });
      let planted = false;
      const r = await runRestorePlan(t.repo, plan, {
        ...(policy ? { onConflict: policy } : {}),
        clock,
        onProgress: (p) => {
          // the writer is in the middle of the file: the main thread's look at the name is long past
          if (!planted && p.bytesDone > 0 && p.bytesDone < p.bytesTotal) {
            planted = true;
            writeFileSync(join(out, 'late', 'big.bin'), 'saved by someone meanwhile');
          }
        },
      });
      expect(planted).toBe(true);
      const at = join(out, 'late', 'big.bin');
      if (policy === undefined) {
        expect(r.errors.map((e) => e.path)).toEqual(['late/big.bin']);
        expect(readFileSync(at, 'utf8')).toBe('saved by someone meanwhile');
      } else if (policy === 'keep-both') {
        expect(r).toMatchObject({ files: 1, keptBoth: 1, errors: [] });
        expect(readFileSync(at, 'utf8')).toBe('saved by someone meanwhile');
        expect(readFileSync(join(out, 'late', `big (${label}).bin`)).equals(data)).toBe(true);
      } else {
        expect(r).toMatchObject({ files: 1, errors: [] });
        expect(readFileSync(at).equals(data)).toBe(true);
      }
      expect(listAll(out).filter((n) => n.includes('.bulwark-'))).toEqual([]);
    }
  });
});

describe('a canceled restore', () => {
  it('leaves no half-written file under a real name and no temporary file', async () => {
    const src = join(temp('cancel-src'), 'big');
    mkdirSync(src);
    const content = new Map<string, Buffer>();
    for (let i = 0; i < 40; i++) {
      const data = randomBytes(i % 4 === 0 ? 6 << 20 : 200_000);
      content.set(`f${String(i).padStart(2, '0')}.bin`, data);
      writeFileSync(join(src, `f${String(i).padStart(2, '0')}.bin`), data);
    }
    const snap = await backup(t.repo, { paths: [src] });
    const out = temp('cancel-out');
    const ac = new AbortController();
    let progressSeen = 0;
    const e = await restoreSnapshot(t.repo, {
      snapshot: snap.id,
      target: out,
      signal: ac.signal,
      concurrency: 2,
      onProgress: (p) => {
        // cancel once some of it is written, in the middle of the big files
        if (p.bytesDone > 0 && ++progressSeen === 2) ac.abort();
      },
    }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isBulwarkError(e, 'CANCELED')).toBe(true);
    const names = listAll(out);
    expect(names.filter((n) => n.includes('.bulwark-'))).toEqual([]);
    const written = names.filter((n) => n.startsWith('big/'));
    expect(written.length).toBeLessThan(content.size); // it did stop
    for (const n of written) expect(readFileSync(join(out, n)).equals(content.get(n.slice(4))!)).toBe(true);
  });
});
