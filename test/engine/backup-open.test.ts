import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/engine/backup/backup.ts';
import {
  BoundedFileReader,
  openScannedFile,
  REPLACED_MESSAGE,
} from '../../src-main/engine/backup/open-file.ts';
import { listSnapshot } from '../../src-main/engine/ops/ls.ts';
import { restoreSnapshot } from '../../src-main/engine/ops/restore.ts';
import { makeFsRepo, tempDir, type TestRepo } from './helpers/repo.ts';

/** The identity the scanner records of a path (lstat: device and inode, as decimal strings). */
function identity(path: string): { dev: string; inode: string } {
  const st = lstatSync(path, { bigint: true });
  return { dev: st.dev.toString(), inode: st.ino.toString() };
}

/** Rejects with a clear message instead of letting the test time out when the call never ends. */
function settlesWithin<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms`)), ms);
    }),
  ]);
}

/** A reader blocked opening a FIFO (the code before the fix) is let go by opening the write end once. */
function releaseFifo(path: string): void {
  try {
    if (existsSync(path) && lstatSync(path).isFIFO())
      closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch (e) {
    // ENXIO: no reader is waiting on it, nothing to release
    if ((e as NodeJS.ErrnoException).code !== 'ENXIO') throw e;
  }
}

describe('openScannedFile: the reader opens only the regular file the scanner saw', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const setup = (): { dir: string; file: string; seen: { dev: string; inode: string } } => {
    const dir = tempDir('open-scanned');
    dirs.push(dir);
    const file = join(dir, 'file.txt');
    writeFileSync(file, 'the scanned content');
    return { dir, file, seen: identity(file) };
  };

  it('opens the scanned file itself and says how large it is', () => {
    const { file, seen } = setup();
    const r = openScannedFile(file, seen);
    if (!r.ok) throw new Error(`not opened: ${r.message}`);
    try {
      expect(r.stat.size).toBe(19n);
      expect(readFileSync(r.fd, 'utf8')).toBe('the scanned content');
    } finally {
      closeSync(r.fd);
    }
  });

  it('refuses a symlink put in its place, even one to a file with the scanned identity', () => {
    const { dir, file, seen } = setup();
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'root-only');
    const kept = join(dir, 'kept');
    renameSync(file, kept);
    symlinkSync(secret, file);
    expect(openScannedFile(file, seen)).toEqual({ ok: false, message: REPLACED_MESSAGE });
    unlinkSync(file);
    symlinkSync(kept, file); // the very file that was scanned, reached through a link
    expect(openScannedFile(file, seen)).toEqual({ ok: false, message: REPLACED_MESSAGE });
  });

  it('refuses a FIFO put in its place at once (no hang waiting for a writer)', () => {
    const { file, seen } = setup();
    unlinkSync(file);
    execFileSync('mkfifo', [file]);
    try {
      expect(openScannedFile(file, seen)).toEqual({ ok: false, message: REPLACED_MESSAGE });
    } finally {
      releaseFifo(file);
    }
  });

  it('refuses a character device (/dev/zero never ends)', () => {
    const { seen } = setup();
    expect(openScannedFile('/dev/zero', seen)).toEqual({ ok: false, message: REPLACED_MESSAGE });
    // even with the device's own identity: only regular files are read
    expect(openScannedFile('/dev/zero', identity('/dev/zero'))).toEqual({
      ok: false,
      message: REPLACED_MESSAGE,
    });
  });

  it('refuses another regular file put in its place (different inode)', () => {
    const { dir, file, seen } = setup();
    const other = join(dir, 'other');
    writeFileSync(other, 'a different file');
    renameSync(other, file);
    expect(openScannedFile(file, seen)).toEqual({ ok: false, message: REPLACED_MESSAGE });
    // the same inode on another device is another file too
    expect(openScannedFile(file, { ...identity(file), dev: `${BigInt(seen.dev) + 1n}` })).toEqual({
      ok: false,
      message: REPLACED_MESSAGE,
    });
  });

  it('a file that vanished is reported as such, not as replaced', () => {
    const { file, seen } = setup();
    unlinkSync(file);
    const r = openScannedFile(file, seen);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/ENOENT/);
  });
});

describe('BoundedFileReader: a file read never runs on forever', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  /** Runs `body` on a file of ten bytes opened for reading (closed after). */
  const withTenBytes = (name: string, body: (fd: number, file: string) => void): void => {
    const dir = tempDir('bounded-read');
    dirs.push(dir);
    const file = join(dir, name);
    writeFileSync(file, Buffer.alloc(10, 1));
    const fd = openSync(file, 'r');
    try {
      body(fd, file);
    } finally {
      closeSync(fd);
    }
  };

  it('reads what fstat said at open plus what arrived until then, and stops there', () => {
    withTenBytes('growing.log', (fd, file) => {
      const r = new BoundedFileReader(fd, 10n);
      const buf = Buffer.alloc(100);
      expect(r.read(buf, 0, 100)).toBe(10);
      appendFileSync(file, Buffer.alloc(5, 2)); // arrived while reading: read too
      expect(r.read(buf, 10, 90)).toBe(5);
      appendFileSync(file, Buffer.alloc(5, 3)); // and again: the reader does not chase it
      expect(r.read(buf, 15, 85)).toBe(0);
      expect(r.read(buf, 15, 85)).toBe(0);
      expect(r.total).toBe(15);
      // its last look was before the second growth was read: not the file's state at the end
      expect(r.statAtEnd).toBeUndefined();
    });
  });

  it('keeps the look it took at the end when nothing was read after it (no second fstat needed)', () => {
    withTenBytes('steady.txt', (fd) => {
      const r = new BoundedFileReader(fd, 10n);
      const buf = Buffer.alloc(100);
      expect(r.read(buf, 0, 100)).toBe(10);
      expect(r.statAtEnd).toBeUndefined(); // not at the end yet as far as it knows
      expect(r.read(buf, 10, 90)).toBe(0);
      const end = r.statAtEnd;
      expect(end).toBeDefined();
      const now = fstatSync(fd, { bigint: true });
      expect([end!.size, end!.mtimeNs, end!.ino]).toEqual([now.size, now.mtimeNs, now.ino]);
    });
  });

  it('stops at the end of a file that shrank', () => {
    withTenBytes('shrinking', (fd) => {
      const r = new BoundedFileReader(fd, 1000n);
      const buf = Buffer.alloc(100);
      expect(r.read(buf, 0, 100)).toBe(10);
      expect(r.read(buf, 10, 90)).toBe(0);
      expect(r.total).toBe(10);
    });
  });

  it('an endless source (/dev/zero, size 0) ends at once', () => {
    const fd = openSync('/dev/zero', 'r');
    try {
      const r = new BoundedFileReader(fd, 0n);
      expect(r.read(Buffer.alloc(4096), 0, 4096)).toBe(0);
      expect(r.total).toBe(0);
    } finally {
      closeSync(fd);
    }
  });
});

describe('backup: a file replaced between the scan and the read', () => {
  let t: TestRepo | undefined;
  afterEach(() => {
    t?.cleanup();
    t = undefined;
  });

  /**
   * Backs up `src`, swapping src/victim with `swap()` right after the scanner reported its folder and the
   * file went to a reader: the readers start with the first file to read, so the swap (synchronous, in the
   * progress callback of that folder) always lands before the reader opens the file.
   */
  const run = async (swap: (victim: string) => void, cleanup?: (victim: string) => void) => {
    t = await makeFsRepo('backup-swap');
    const src = join(t.dir, 'src');
    mkdirSync(src);
    const victim = join(src, 'victim.txt');
    writeFileSync(victim, 'ordinary content of the scanned file');
    writeFileSync(join(src, 'other.txt'), 'another file');
    let swapped = false;
    try {
      const snap = await settlesWithin(
        backup(t.repo, {
          paths: [src],
          readers: 1,
          onProgress: (p) => {
            if (!swapped && p.filesTotal > 0) {
              swapped = true;
              swap(victim);
            }
          },
        }),
        20_000,
        'the backup',
      );
      return { snap, src, victim, repo: t.repo, dir: t.dir };
    } finally {
      cleanup?.(victim);
    }
  };

  it('a symlink to a secret file: the secret is not stored, the file is reported as replaced', async () => {
    let secret = '';
    const { snap, victim, repo, dir } = await run((v) => {
      secret = join(v, '..', '..', 'secret');
      writeFileSync(secret, 'TOP SECRET root-only data');
      unlinkSync(v);
      symlinkSync(secret, v);
    });
    expect(snap.stats.errorCount).toBe(1);
    expect(snap.stats.errors).toEqual([{ path: victim, message: REPLACED_MESSAGE }]);
    const names = (await listSnapshot(repo, snap.id, '')).map((e) => e.path);
    expect(names).toContain('src/other.txt');
    expect(names).not.toContain('src/victim.txt');
    const out = join(dir, 'out');
    const r = await restoreSnapshot(repo, { snapshot: snap.id, target: out });
    expect(r.errors).toEqual([]);
    expect(existsSync(join(out, 'src', 'victim.txt'))).toBe(false);
    expect(readFileSync(join(out, 'src', 'other.txt'), 'utf8')).toBe('another file');
  }, 30_000);

  it('a FIFO: the run ends (no reader hangs) and reports it', async () => {
    const { snap, victim } = await run(
      (v) => {
        unlinkSync(v);
        execFileSync('mkfifo', [v]);
      },
      (v) => releaseFifo(v),
    );
    expect(snap.stats.errors).toEqual([{ path: victim, message: REPLACED_MESSAGE }]);
    expect(snap.stats.files).toBe(1);
  }, 30_000);

  it('a symlink to /dev/zero: the run ends and reports it', async () => {
    const { snap, victim } = await run((v) => {
      unlinkSync(v);
      symlinkSync('/dev/zero', v);
    });
    expect(snap.stats.errors).toEqual([{ path: victim, message: REPLACED_MESSAGE }]);
  }, 30_000);
});
