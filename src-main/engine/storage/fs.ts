import { createHash, randomBytes } from 'node:crypto';
import type { Dirent, Stats } from 'node:fs';
import {
  chmod,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  rename,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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
  type PutResult,
  type StoreCapabilities,
} from './types.ts';

/** File bodies are copied in pieces of this size through one buffer per put. */
const CHUNK = 4 * 1024 * 1024;
const TMP_PREFIX = '.tmp-';
const SEGMENT_RE = /^[A-Za-z0-9._-]+$/;
const IS_WINDOWS = process.platform === 'win32';
/** stats run in parallel while listing a directory (NAS shares have high latency per call) */
const LIST_STAT_PARALLELISM = 32;
/** the folder of lease files (locks between computers, see FolderLease); never listed as objects */
const LEASE_DIR = 'locks';
/** a lease file left unchanged this long (as the waiter measures it) is stale; the holder refreshes at 1/4 */
export const DEFAULT_LEASE_MS = 120_000;
/** a lease period a lease file may ask for at most (a damaged or hostile file cannot block for longer) */
const MAX_LEASE_MS = 3_600_000;
/** how long a lease is waited for while its holder keeps it alive */
export const DEFAULT_LEASE_WAIT_MS = 30 * 60_000;

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

  async put(name: string, body: PutBody, opts: PutOptions = {}): Promise<PutResult> {
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
      return {};

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
    return {}; // a folder keeps no versions: a file is written once and never replaced
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
    if (dirPart === LEASE_DIR || dirPart.startsWith(`${LEASE_DIR}/`)) return; // lease files, not objects
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
      if (rel === '' && ent.name === LEASE_DIR) continue; // lease files (FolderLease), not objects
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

  /**
   * Takes the lease `name` of this folder (`locks/<name>.lease`), waiting while another process, here or
   * on another computer sharing the folder, holds it. See FolderLease.
   */
  async lease(name: string, opts: LeaseOptions): Promise<FolderLease> {
    if (!SEGMENT_RE.test(name)) throw new BulwarkError('INVALID_ARGUMENT', `invalid lease name: ${name}`);
    const dir = path.join(this.root, LEASE_DIR);
    const file = path.join(dir, `${name}.lease`);
    const now = opts.now ?? (() => performance.now());
    const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    const deadline = now() + (opts.waitMs ?? DEFAULT_LEASE_WAIT_MS);
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw fromSystemError(e, `creating folder ${dir}`);
    }
    const holder: LeaseHolder = {
      id: randomBytes(16).toString('hex'),
      host: hostname(),
      pid: process.pid,
      purpose: opts.purpose,
      acquired: this.clock.now().toISOString(),
      leaseMs,
    };
    let watched: { key: string; since: number } | undefined;
    let told: string | undefined;
    let pause = 25;
    let vanished = 0;
    for (;;) {
      throwIfAborted(opts.signal);
      if (await takeLease(dir, file, holder)) return new FolderLease(file, holder, now, this.clock);
      const cur = await readLease(file);
      if (cur === undefined) {
        // released meanwhile: try again at once (but do not spin on a name that is there and unreadable)
        if (++vanished < 3) continue;
        await pauseFor(pause, opts.signal);
        continue;
      }
      vanished = 0;
      const seen = now();
      if (watched?.key !== cur.key) watched = { key: cur.key, since: seen };
      // Stale: its process is gone (same computer), or nobody refreshed it for a whole lease period as
      // this process measures it (any computer: no comparison between two computers' clocks).
      const period = Math.min(Math.max(leaseMs, cur.holder?.leaseMs ?? 0), MAX_LEASE_MS);
      if (holderIsDead(cur.holder) || seen - watched.since >= period) {
        await removeLeaseIf(dir, file, (found) => found.key === cur.key);
        watched = undefined;
        continue;
      }
      const who = cur.holder ?? unknownHolder(cur);
      if (told !== who.id) {
        told = who.id; // once per holder, not per refresh
        opts.onWait?.(who);
      }
      if (seen >= deadline) {
        throw new BulwarkError(
          'LOCKED',
          `${this.location}: ${describeHolder(who)} has held the ${name} lease of this repository for too long`,
          {
            hint:
              'Another backup or prune on this folder is still running. Try again when it is done. A lease whose ' +
              `process was killed is taken over after ${Math.round(period / 1000)} s without a refresh.`,
          },
        );
      }
      await pauseFor(pause, opts.signal);
      pause = Math.min(pause * 2, 1000);
    }
  }
}

/** Who holds a folder lease (the lease file's contents). */
export interface LeaseHolder {
  /** random, per acquisition */
  id: string;
  host: string;
  pid: number;
  /** what it is doing, e.g. "prune", "backup" */
  purpose: string;
  /** when it was taken, by the holder's clock (ISO; for people, never compared) */
  acquired: string;
  /** the holder refreshes the file at a quarter of this; unchanged for this long, it is stale */
  leaseMs: number;
}

export interface LeaseOptions {
  purpose: string;
  /** default DEFAULT_LEASE_MS */
  leaseMs?: number;
  /** how long to wait for a holder that keeps its lease alive; then LOCKED (default DEFAULT_LEASE_WAIT_MS) */
  waitMs?: number;
  signal?: AbortSignal;
  /** called once per holder this call waits for */
  onWait?: (holder: LeaseHolder) => void;
  /** monotonic milliseconds (default performance.now): lease periods are measured with it */
  now?: () => number;
}

/**
 * A lease on a folder shared by several computers (a NAS): an exclusive lock that outlives nobody.
 *
 * Taken by hard-linking a finished temporary file to `locks/<name>.lease` (link() is atomic and fails when
 * the name exists, also over NFS and SMB, as for objects). The holder refreshes the file's mtime every
 * quarter of the lease period and removes it when done. Another process that finds the file waits; it
 * takes the lease over when the holder's process is gone (same host: pid check) or when the file stayed
 * unchanged for a whole lease period *as that waiter measures it* on its own monotonic clock: computers'
 * clocks are never compared, so clock skew between NAS clients cannot make a live lease look stale. A
 * take-over renames the file away and checks it moved the stale one (otherwise it puts it back).
 *
 * The holder in turn stops trusting its lease once it could not refresh it for half a period (the process
 * was suspended, the share stalled) or finds it gone or taken over: `assertHeld()` then throws LOCKED, and
 * callers check it right before each step the lease protects.
 */
export class FolderLease {
  readonly holder: LeaseHolder;
  readonly file: string;
  private readonly now: () => number;
  private readonly clock: Clock;
  private refreshedAt: number;
  private lostWhy: string | undefined;
  private released = false;
  private mtime: number;
  private refreshing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  /** the last refresh that failed without losing the lease (it runs out by time if they keep failing) */
  lastRefreshError: unknown;

  constructor(file: string, holder: LeaseHolder, now: () => number, clock: Clock) {
    this.file = file;
    this.holder = holder;
    this.now = now;
    this.clock = clock;
    this.refreshedAt = now();
    this.mtime = clock.now().getTime();
    this.timer = setInterval(() => void this.refresh(), Math.max(1, Math.floor(holder.leaseMs / 4)));
    this.timer.unref();
  }

  /** Throws LOCKED unless the lease is certainly still this process's. */
  assertHeld(): void {
    let why = this.lostWhy;
    if (this.released) why = 'it was released';
    const age = this.now() - this.refreshedAt;
    if (why === undefined && age > this.holder.leaseMs / 2) {
      why = `it could not be refreshed for ${Math.round(age / 1000)} s (the computer slept or the share stalled?)`;
    }
    if (why !== undefined) {
      throw new BulwarkError('LOCKED', `lost the ${this.holder.purpose} lease on ${this.file}: ${why}`, {
        hint: 'Another computer may have taken it over. Nothing was changed after that; run the command again.',
        ...(this.lastRefreshError !== undefined ? { cause: this.lastRefreshError } : {}),
      });
    }
  }

  /** Refreshes the lease file's mtime now (the timer does it every quarter period). */
  async refresh(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (this.released || this.lostWhy !== undefined) return;
    const run = async (): Promise<void> => {
      const started = this.now();
      let fh: FileHandle | undefined;
      try {
        fh = await open(this.file, 'r+'); // r+: Windows sets times only through a handle open for writing
        const found = parseHolder(await fh.readFile({ encoding: 'utf8' }));
        if (found?.id !== this.holder.id) {
          this.lostWhy = `${found ? describeHolder(found) : 'another process'} took it over`;
          return;
        }
        // any change tells waiters it is alive; the time is only for people looking at the folder
        this.mtime = Math.max(this.clock.now().getTime(), this.mtime + 1000);
        await fh.utimes(new Date(this.mtime), new Date(this.mtime));
        this.refreshedAt = started;
        this.lastRefreshError = undefined;
      } catch (e) {
        if (errno(e) === 'ENOENT') this.lostWhy = 'its file was removed (taken over as stale?)';
        else this.lastRefreshError = e; // said by assertHeld once the lease runs out
      } finally {
        await fh?.close().catch(() => undefined);
      }
    };
    this.refreshing = run().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Stops refreshing and removes the lease file if it is still this process's. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    await this.refreshing;
    // taken over (this process was judged stale): not this process's file to remove
    if ((await readLease(this.file))?.holder?.id !== this.holder.id) return;
    await removeLeaseIf(path.dirname(this.file), this.file, (found) => found.holder?.id === this.holder.id);
  }
}

/**
 * The lease `name` of the folder under `store` (through wrappers that keep their store in `inner`), or
 * undefined when the store is no folder (server-side locks or a single process protect those).
 */
export async function folderLease(
  store: BlobStore,
  name: string,
  opts: LeaseOptions,
): Promise<FolderLease | undefined> {
  for (let s: BlobStore | undefined = store; s; s = (s as { inner?: BlobStore }).inner) {
    if (s instanceof FsStore) return s.lease(name, opts);
  }
  return undefined;
}

interface FoundLease {
  holder: LeaseHolder | undefined;
  /** what identifies this state of the file: a refresh or a new holder changes it */
  key: string;
}

async function takeLease(dir: string, file: string, holder: LeaseHolder): Promise<boolean> {
  const tmp = path.join(dir, `${TMP_PREFIX}${randomBytes(8).toString('hex')}`);
  let fh: FileHandle;
  try {
    fh = await open(tmp, 'wx', 0o644);
  } catch (e) {
    throw fromSystemError(e, `creating a lease file in ${dir}`);
  }
  try {
    try {
      await writeAll(fh, Buffer.from(JSON.stringify(holder)), tmp);
      await fh.sync();
    } finally {
      await fh.close().catch(() => undefined);
    }
    try {
      await link(tmp, file);
      return true;
    } catch (e) {
      if (errno(e) !== 'EEXIST') throw fromSystemError(e, `taking the lease ${file}`);
      // NFS: a LINK retried after its reply was lost reports EEXIST although it worked
      return (await stat(tmp)).nlink === 2;
    }
  } finally {
    await unlinkQuietly(tmp);
  }
}

/** The lease file as it is now (opened afresh: NFS revalidates attributes on open); undefined if none. */
async function readLease(file: string): Promise<FoundLease | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    if (errno(e) === 'ENOENT') return undefined;
    throw fromSystemError(e, `reading the lease ${file}`);
  }
  try {
    const st = await fh.stat();
    const holder = parseHolder(await fh.readFile({ encoding: 'utf8' }));
    // not the inode: some SMB mounts make inode numbers up per lookup
    return { holder, key: `${holder?.id ?? '?'}:${st.size}:${st.mtimeMs}` };
  } catch (e) {
    throw fromSystemError(e, `reading the lease ${file}`);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * Removes the lease file if `mine` says it is the one meant: renames it away first (atomic: of two
 * processes doing this at once, one moves it), then looks at what it moved and puts back a file it was
 * not meant to remove (if yet another process took the lease meanwhile, the one put back stays moved, and
 * its holder sees that at its next refresh).
 */
async function removeLeaseIf(dir: string, file: string, mine: (found: FoundLease) => boolean): Promise<void> {
  const moved = path.join(dir, `${TMP_PREFIX}gone-${randomBytes(8).toString('hex')}`);
  try {
    await rename(file, moved);
  } catch (e) {
    if (errno(e) === 'ENOENT') return; // gone already
    throw fromSystemError(e, `removing the lease ${file}`);
  }
  let putBack = true; // unless it is certainly the one meant (also when it cannot be read)
  let readError: unknown;
  try {
    const found = await readLease(moved);
    putBack = found !== undefined && !mine(found);
  } catch (e) {
    readError = e;
  }
  let linkError: unknown;
  if (putBack) {
    try {
      await link(moved, file);
    } catch (e) {
      // EEXIST: another process took the lease meanwhile; the holder of the moved one sees it lost
      if (errno(e) !== 'EEXIST') linkError = fromSystemError(e, `putting back the lease ${file}`);
    }
  }
  await unlinkQuietly(moved);
  if (readError !== undefined) throw readError;
  if (linkError !== undefined) throw linkError;
}

function parseHolder(text: string): LeaseHolder | undefined {
  try {
    const v = JSON.parse(text) as Partial<LeaseHolder> | null;
    if (
      v &&
      typeof v.id === 'string' &&
      typeof v.host === 'string' &&
      typeof v.pid === 'number' &&
      typeof v.purpose === 'string' &&
      typeof v.acquired === 'string' &&
      typeof v.leaseMs === 'number'
    )
      return v as LeaseHolder;
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
  }
  return undefined; // not a lease this version wrote: judged by its changes alone
}

async function pauseFor(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (e) {
    throwIfAborted(signal);
    throw e;
  }
}

function unknownHolder(found: FoundLease): LeaseHolder {
  return { id: found.key, host: '?', pid: 0, purpose: 'unknown', acquired: '?', leaseMs: 0 };
}

function describeHolder(h: LeaseHolder): string {
  return `${h.purpose} (process ${h.pid} on ${h.host}, since ${h.acquired})`;
}

/** The holder ran on this computer and its process is gone. */
function holderIsDead(h: LeaseHolder | undefined): boolean {
  if (!h || h.host !== hostname() || h.pid === process.pid || !(h.pid > 0)) return false;
  try {
    process.kill(h.pid, 0);
    return false;
  } catch (e) {
    return errno(e) === 'ESRCH'; // EPERM: alive, another user's
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
