/**
 * How a reader opens a file the scanner listed. Between the scan (lstat) and the read, the path may have
 * been replaced: by a symlink (a plain open would follow it and store its target, e.g. a file only root
 * may read, under the scanned name), by a FIFO (a plain open waits for a writer forever), by a device
 * (/dev/zero never ends) or by another file. So the open never follows a link and never waits, and the
 * opened descriptor must be the regular file, on the device and inode, that the scanner saw.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type BigIntStats } from 'node:fs';
import { fsPath } from '../util/fs-names.ts';

/** What the snapshot's error list says of a path that is no longer the file the scanner saw. */
export const REPLACED_MESSAGE = 'changed during backup (it was replaced)';

/** The scanner's identity of a file (lstat, as decimal strings: bigint does not cross postMessage as JSON). */
export interface ScannedIdentity {
  dev: string;
  inode: string;
  /** the owner the scanner saw (decides whether O_NOATIME may be asked for) */
  uid?: number;
}

export type OpenedFile = { ok: true; fd: number; stat: BigIntStats } | { ok: false; message: string };

// Flags missing on a platform are 0 (Windows has no O_NOFOLLOW/O_NONBLOCK: there the identity check alone
// keeps a replaced path out of the snapshot).
const BASE_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
const NOATIME = constants.O_NOATIME ?? 0;
const euid = process.geteuid?.();

function openNoFollow(path: string | Buffer, owner: number | undefined): number {
  // O_NOATIME (the read leaves the access time alone) is allowed to the file's owner and to root only.
  if (NOATIME !== 0 && euid !== undefined && (euid === 0 || owner === euid)) {
    try {
      return openSync(path, BASE_FLAGS | NOATIME);
    } catch (e) {
      // EPERM: refused after all (the owner changed since the scan, a file system without it): nothing is
      // skipped, the file is opened again below without the flag.
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    }
  }
  return openSync(path, BASE_FLAGS);
}

/**
 * Opens `path` for reading only if it is still the regular file the scanner saw (same device and inode).
 * A symlink, FIFO, socket, device or other file in its place gives `{ok: false, message: REPLACED_MESSAGE}`;
 * any other failure (vanished, permission) gives the system's message. The caller closes `fd`.
 */
export function openScannedFile(path: string, expected: ScannedIdentity): OpenedFile {
  let fd: number;
  try {
    fd = openNoFollow(fsPath(path), expected.uid); // a name that is not UTF-8: its exact bytes
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ELOOP: a symlink (O_NOFOLLOW); EMLINK/EFTYPE: the same on some BSDs; ENXIO: a socket
    if (code === 'ELOOP' || code === 'EMLINK' || code === 'EFTYPE' || code === 'ENXIO')
      return { ok: false, message: REPLACED_MESSAGE };
    return { ok: false, message: (e as Error).message };
  }
  let stat: BigIntStats;
  try {
    stat = fstatSync(fd, { bigint: true });
  } catch (e) {
    closeSync(fd);
    return { ok: false, message: (e as Error).message };
  }
  if (!stat.isFile() || stat.ino.toString() !== expected.inode || stat.dev.toString() !== expected.dev) {
    closeSync(fd);
    return { ok: false, message: REPLACED_MESSAGE };
  }
  return { ok: true, fd, stat };
}

/**
 * Reads an open file up to the size fstat gave at open plus, checked once when that much is read, what
 * arrived meanwhile; then (or at an earlier end of file) `read` returns 0. A file that keeps growing, or
 * anything else that never ends, cannot keep a reader busy forever; the caller compares the size after
 * reading and flags a file that changed.
 */
export class BoundedFileReader {
  private readonly fd: number;
  private limit: number;
  private rechecked = false;
  private ended = false;
  /** bytes read so far */
  total = 0;
  /**
   * The file's fstat taken when the reads reached the size at open, if nothing was read after it: the
   * caller's look after reading needs no second fstat then (one per file of a tree of small files).
   */
  statAtEnd: BigIntStats | undefined;

  constructor(fd: number, sizeAtOpen: bigint) {
    this.fd = fd;
    this.limit = Number(sizeAtOpen);
  }

  read(buf: Buffer, offset: number, length: number): number {
    if (this.ended || length <= 0) return 0;
    if (this.total >= this.limit) {
      if (!this.rechecked) {
        this.rechecked = true;
        this.statAtEnd = fstatSync(this.fd, { bigint: true });
        this.limit = Math.max(this.limit, Number(this.statAtEnd.size));
      }
      if (this.total >= this.limit) {
        this.ended = true;
        return 0;
      }
    }
    const n = readSync(this.fd, buf, offset, Math.min(length, this.limit - this.total), null);
    if (n === 0) this.ended = true;
    else this.statAtEnd = undefined; // the file grew since: that look is not the last one
    this.total += n;
    return n;
  }
}
