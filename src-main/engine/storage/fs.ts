import { createHash, randomBytes } from 'node:crypto';
import type { Dirent, Stats } from 'node:fs';
import { chmod, link, lstat, mkdir, open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { systemClock, type Clock } from '../clock.ts';
import { BulwarkError, fromSystemError, throwIfAborted } from '../errors.ts';
import { checkRange, emptyStats, type StoreStats } from './memory.ts';
import {
  assertValidName,
  type BlobStore,
  type ByteRange,
  type ObjectInfo,
  type PutBody,
  type PutOptions,
  type StoreCapabilities,
} from './types.ts';

/** File bodies are copied in pieces of this size through one buffer per put. */
const CHUNK = 4 * 1024 * 1024;
const TMP_PREFIX = '.tmp-';
const SEGMENT_RE = /^[A-Za-z0-9._-]+$/;
const IS_WINDOWS = process.platform === 'win32';
/** stats run in parallel while listing a directory (NAS shares have high latency per call) */
const LIST_STAT_PARALLELISM = 32;

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * BlobStore on a local folder or a mounted NAS share.
 *
 * put writes `<dir>/.tmp-<random>`, fsyncs it, then hard-links it to the final name: link() fails with
 * EEXIST when the name exists, so write-once holds even between concurrent writers (rename would silently
 * replace). A killed writer leaves at most a `.tmp-*` file, which list skips and which never blocks a put.
 * Objects are made read-only (0444). Retention options are accepted and ignored for now.
 */
export class FsStore implements BlobStore {
  readonly location: string;
  readonly capabilities: StoreCapabilities = {
    enforcedLocks: false,
    extendRetention: false,
    legalHold: false,
  };
  readonly stats: StoreStats = emptyStats();
  readonly root: string;
  private readonly clock: Clock;
  /** directories whose entry chain up to the root is known to be on disk (fsynced) */
  private readonly durableDirs = new Set<string>();

  /** Does not touch the disk: the root is created by the first put. */
  constructor(opts: { root: string; clock?: Clock }) {
    this.root = path.resolve(opts.root);
    this.clock = opts.clock ?? systemClock;
    this.location = pathToFileURL(this.root).href;
  }

  /** Creates the root folder (and its parents) if needed, then returns the store. */
  static async create(opts: string | { root: string; clock?: Clock }): Promise<FsStore> {
    const store = new FsStore(typeof opts === 'string' ? { root: opts } : opts);
    try {
      await mkdir(store.root, { recursive: true });
    } catch (e) {
      throw fromSystemError(e, `creating ${store.root}`);
    }
    return store;
  }

  stagingDir(): string {
    return path.join(this.root, `${TMP_PREFIX}staging`);
  }

  /**
   * Links a finished file built on this file system straight into place (no copy; packs are written once).
   * False when it cannot (another file system): the caller copies instead.
   */
  private async adopt(
    name: string,
    body: { path: string; size: number },
    final: string,
    dir: string,
  ): Promise<boolean> {
    try {
      // the writer did not fsync (its thread has better things to do): the data is durable before its name
      const fh = await open(body.path, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await chmod(body.path, 0o444);
      await link(body.path, final);
    } catch (e) {
      const code = errno(e);
      if (code === 'EEXIST')
        throw new BulwarkError('ALREADY_EXISTS', `${name}: already exists`, { cause: e });
      if (
        code === 'EXDEV' ||
        code === 'EPERM' ||
        code === 'ENOTSUP' ||
        code === 'EOPNOTSUPP' ||
        code === 'ENOSYS'
      )
        return false;
      throw fromSystemError(e, `storing ${name}`);
    }
    await unlinkQuietly(body.path);
    await this.syncDirs(dir);
    this.stats.puts++;
    this.stats.bytesPut += body.size;
    return true;
  }

  localPath(name: string): string {
    return this.pathOf(name);
  }

  private pathOf(name: string): string {
    return path.join(this.root, ...name.split('/'));
  }

  async put(name: string, body: PutBody, opts: PutOptions = {}): Promise<void> {
    assertValidName(name);
    throwIfAborted(opts.signal);
    const final = this.pathOf(name);
    const dir = path.dirname(final);

    // cheap early refusal, so a large body is not copied just to fail at link()
    if (await exists(final)) throw new BulwarkError('ALREADY_EXISTS', `${name}: already exists`);

    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      const code = errno(e);
      if (code === 'ENOTDIR' || code === 'EEXIST') {
        throw new BulwarkError('INVALID_ARGUMENT', `${name}: a parent of this name is an existing object`, {
          cause: e,
        });
      }
      throw fromSystemError(e, `creating folder ${dir}`);
    }

    if (
      !(body instanceof Uint8Array) &&
      body.adopt &&
      !IS_WINDOWS &&
      (await this.adopt(name, body, final, dir))
    )
      return;

    const tmp = path.join(dir, `${TMP_PREFIX}${randomBytes(8).toString('hex')}`);
    let linked = false;
    try {
      const size = await this.writeTemp(tmp, name, body, opts);
      throwIfAborted(opts.signal);
      try {
        await link(tmp, final);
      } catch (e) {
        const code = errno(e);
        if (code === 'EEXIST') {
          throw new BulwarkError('ALREADY_EXISTS', `${name}: already exists`, { cause: e });
        }
        if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
          throw new BulwarkError('UNSUPPORTED', `${this.root}: the file system does not support hard links`, {
            cause: e,
            hint: 'Bulwark needs hard links for write-once objects; use a share or disk formatted with NTFS, ext4, APFS, XFS or Btrfs (not FAT/exFAT).',
          });
        }
        throw fromSystemError(e, `storing ${name}`);
      }
      linked = true;
      await unlinkQuietly(tmp);
      if (IS_WINDOWS) {
        // on POSIX the temp file was made read-only before the link; Windows cannot unlink read-only files
        await chmod(final, 0o444).catch((e: unknown) => {
          throw fromSystemError(e, `making ${name} read-only`);
        });
      }
      await this.syncDirs(dir);
      this.stats.puts++;
      this.stats.bytesPut += size;
    } catch (e) {
      if (!linked) await unlinkQuietly(tmp);
      throw fromSystemError(e, `storing ${name}`);
    }
  }

  /** Writes the body to `tmp`, fsyncs it and (POSIX) makes it read-only; returns the byte count. */
  private async writeTemp(tmp: string, name: string, body: PutBody, opts: PutOptions): Promise<number> {
    const md5 = opts.contentMd5 === undefined ? undefined : createHash('md5');
    let out: FileHandle;
    try {
      out = await open(tmp, 'wx', 0o600);
    } catch (e) {
      throw fromSystemError(e, `creating a temporary file in ${path.dirname(tmp)}`);
    }
    try {
      let size: number;
      if (body instanceof Uint8Array) {
        md5?.update(body);
        await writeAll(out, body, tmp);
        size = body.length;
      } else {
        size = await copyFile(body, out, tmp, md5, opts.signal);
      }
      if (md5 && md5.digest('base64') !== opts.contentMd5) {
        throw new BulwarkError('CORRUPT', `put ${name}: the body does not match its Content-MD5`);
      }
      try {
        await out.sync();
        if (!IS_WINDOWS) await out.chmod(0o444);
      } catch (e) {
        throw fromSystemError(e, `writing ${tmp}`);
      }
      return size;
    } finally {
      await out.close().catch(() => undefined);
    }
  }

  /**
   * fsyncs `dir` so the new entry survives a crash. The first time a folder is used, also its ancestors up
   * to the root (and the root's own entry), since this put may have created them.
   */
  private async syncDirs(dir: string): Promise<void> {
    if (IS_WINDOWS) return; // folders cannot be opened for fsync there; NTFS journals the metadata
    await fsyncDir(dir);
    if (this.durableDirs.has(dir)) return;
    const synced = [dir];
    let d = dir;
    while (d !== this.root && d.startsWith(this.root)) {
      d = path.dirname(d);
      if (this.durableDirs.has(d)) break;
      await fsyncDir(d);
      synced.push(d);
    }
    if (synced.includes(this.root)) {
      // the root's entry in its parent, in case the first put created it (the parent may not be ours)
      await fsyncDir(path.dirname(this.root)).catch(() => undefined);
    }
    for (const s of synced) this.durableDirs.add(s);
  }

  async get(name: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    assertValidName(name);
    throwIfAborted(signal);
    let fh: FileHandle;
    try {
      fh = await open(this.pathOf(name), 'r');
    } catch (e) {
      throw mapMissing(e, name);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new BulwarkError('NOT_FOUND', `${name}: not found`);
      const offset = range?.offset ?? 0;
      let length = st.size;
      if (range) {
        checkRange(name, range, st.size);
        length = range.length;
      }
      const buf = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        throwIfAborted(signal);
        const want = Math.min(CHUNK, length - done);
        const { bytesRead } = await fh.read(buf, done, want, offset + done);
        if (bytesRead === 0) {
          throw new BulwarkError('IO', `${name}: the file ended early (changed while reading?)`);
        }
        done += bytesRead;
      }
      this.stats.gets++;
      this.stats.bytesGot += length;
      return buf;
    } catch (e) {
      throw fromSystemError(e, `reading ${name}`);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  async head(name: string): Promise<ObjectInfo> {
    assertValidName(name);
    let st: Stats;
    try {
      st = await stat(this.pathOf(name));
    } catch (e) {
      throw mapMissing(e, name);
    }
    if (!st.isFile()) throw new BulwarkError('NOT_FOUND', `${name}: not found`);
    this.stats.heads++;
    return { name, size: st.size, modified: st.mtime };
  }

  async *list(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    throwIfAborted(signal);
    // start at the deepest folder the prefix names completely: "packs/ab" walks <root>/packs
    const cut = prefix.lastIndexOf('/');
    const dirPart = cut < 0 ? '' : prefix.slice(0, cut);
    if (dirPart !== '' && !isValidName(dirPart)) return; // no valid name can start with this prefix
    this.stats.lists++;
    yield* this.walk(dirPart, prefix, signal);
  }

  private async *walk(
    rel: string,
    prefix: string,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<ObjectInfo> {
    throwIfAborted(signal);
    const abs = rel === '' ? this.root : this.pathOf(rel);
    let entries: Dirent[];
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch (e) {
      const code = errno(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return; // missing root or folder: nothing stored there
      throw fromSystemError(e, `listing ${abs}`);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const files: string[] = [];
    const dirs: string[] = [];
    for (const ent of entries) {
      // skips temp files, NAS metadata ("@eaDir", "#recycle") and anything that is not a valid segment
      if (
        ent.name.startsWith(TMP_PREFIX) ||
        !SEGMENT_RE.test(ent.name) ||
        ent.name === '.' ||
        ent.name === '..'
      ) {
        continue;
      }
      const name = rel === '' ? ent.name : `${rel}/${ent.name}`;
      if (ent.isDirectory()) {
        // a folder is worth entering only if names in it can match the prefix
        if (name.startsWith(prefix) || prefix.startsWith(`${name}/`)) dirs.push(name);
      } else if (ent.isFile()) {
        if (name.startsWith(prefix)) files.push(name);
      } // symlinks and special files are never objects
    }
    for (let i = 0; i < files.length; i += LIST_STAT_PARALLELISM) {
      throwIfAborted(signal);
      const batch = files.slice(i, i + LIST_STAT_PARALLELISM);
      const infos = await Promise.all(
        batch.map(async (name): Promise<ObjectInfo | undefined> => {
          try {
            const st = await lstat(this.pathOf(name));
            return st.isFile() ? { name, size: st.size, modified: st.mtime } : undefined;
          } catch (e) {
            if (errno(e) === 'ENOENT') return undefined; // deleted meanwhile
            throw fromSystemError(e, `listing ${name}`);
          }
        }),
      );
      for (const info of infos) if (info) yield info;
    }
    for (const d of dirs) yield* this.walk(d, prefix, signal);
  }

  async delete(name: string): Promise<void> {
    assertValidName(name);
    const p = this.pathOf(name);
    try {
      await unlink(p);
    } catch (e) {
      const code = errno(e);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return; // a folder is no object
      if (code !== 'EPERM' && code !== 'EACCES') throw fromSystemError(e, `deleting ${name}`);
      // Windows refuses to unlink read-only files: make it writable first
      try {
        if (!(await lstat(p)).isFile()) return; // macOS reports EPERM for folders
        await chmod(p, 0o644);
        await unlink(p);
      } catch (e2) {
        if (errno(e2) === 'ENOENT') return;
        throw fromSystemError(e2, `deleting ${name}`);
      }
    }
    this.stats.deletes++;
  }

  async serverTime(): Promise<Date> {
    return this.clock.now();
  }
}

function isValidName(name: string): boolean {
  try {
    assertValidName(name);
    return true;
  } catch {
    return false;
  }
}

function mapMissing(e: unknown, name: string): BulwarkError {
  const code = errno(e);
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new BulwarkError('NOT_FOUND', `${name}: not found`, { cause: e });
  }
  return fromSystemError(e, `reading ${name}`);
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (e) {
    const code = errno(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw fromSystemError(e, `checking ${p}`);
  }
}

async function unlinkQuietly(p: string): Promise<void> {
  try {
    await unlink(p);
  } catch {
    try {
      // Windows: a read-only file must be made writable before it can be removed
      await chmod(p, 0o600);
      await unlink(p);
    } catch {
      // best effort: a leftover .tmp-* file is harmless (never listed, never blocks a put)
    }
  }
}

async function writeAll(fh: FileHandle, data: Uint8Array, what: string): Promise<void> {
  let done = 0;
  while (done < data.length) {
    let bytesWritten: number;
    try {
      ({ bytesWritten } = await fh.write(data, done, data.length - done));
    } catch (e) {
      throw fromSystemError(e, `writing ${what}`);
    }
    done += bytesWritten;
  }
}

/** Streams `body` into `out` through one reused buffer; never holds the whole file. */
async function copyFile(
  body: { path: string; size: number },
  out: FileHandle,
  what: string,
  md5: ReturnType<typeof createHash> | undefined,
  signal: AbortSignal | undefined,
): Promise<number> {
  let src: FileHandle;
  try {
    src = await open(body.path, 'r');
  } catch (e) {
    throw fromSystemError(e, `reading ${body.path}`);
  }
  try {
    const actual = (await src.stat()).size;
    if (actual !== body.size) {
      throw new BulwarkError(
        'INVALID_ARGUMENT',
        `file ${body.path} has ${actual} bytes, the caller said ${body.size}`,
      );
    }
    const buf = Buffer.allocUnsafe(Math.max(1, Math.min(CHUNK, body.size)));
    let pos = 0;
    while (pos < body.size) {
      throwIfAborted(signal);
      let bytesRead: number;
      try {
        ({ bytesRead } = await src.read(buf, 0, Math.min(buf.length, body.size - pos), pos));
      } catch (e) {
        throw fromSystemError(e, `reading ${body.path}`);
      }
      if (bytesRead === 0) {
        throw new BulwarkError('IO', `file ${body.path} shrank while it was being stored`);
      }
      const piece = buf.subarray(0, bytesRead);
      md5?.update(piece);
      await writeAll(out, piece, what);
      pos += bytesRead;
    }
    return pos;
  } finally {
    await src.close().catch(() => undefined);
  }
}

/** fsync a directory; file systems that cannot (some network mounts) report EINVAL/ENOTSUP: ignored. */
async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    const code = errno(e);
    if (
      code === 'EINVAL' ||
      code === 'ENOTSUP' ||
      code === 'EOPNOTSUPP' ||
      code === 'EISDIR' ||
      code === 'EBADF'
    ) {
      return;
    }
    throw fromSystemError(e, `syncing folder ${dir}`);
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
