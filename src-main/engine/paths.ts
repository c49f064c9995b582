import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where Bulwark keeps its local state (XDG on Linux; overridable with BULWARK_HOME for tests/portable use). */
export interface LocalPaths {
  /** catalogs, the embedded default repository */
  dataDir: string;
  /** key files (0600) and settings */
  configDir: string;
  /** pack build folder */
  cacheDir: string;
}

export function localPaths(env: NodeJS.ProcessEnv = process.env): LocalPaths {
  if (env.BULWARK_HOME) {
    return {
      dataDir: join(env.BULWARK_HOME, 'data'),
      configDir: join(env.BULWARK_HOME, 'config'),
      cacheDir: join(env.BULWARK_HOME, 'cache'),
    };
  }
  const home = env.HOME ?? homedir();
  if (process.platform === 'win32') {
    const app = env.APPDATA ?? join(home, 'AppData', 'Roaming');
    const local = env.LOCALAPPDATA ?? join(home, 'AppData', 'Local');
    return {
      dataDir: join(app, 'Bulwark'),
      configDir: join(app, 'Bulwark'),
      cacheDir: join(local, 'Bulwark', 'cache'),
    };
  }
  if (process.platform === 'darwin') {
    const lib = join(home, 'Library');
    return {
      dataDir: join(lib, 'Application Support', 'Bulwark'),
      configDir: join(lib, 'Application Support', 'Bulwark'),
      cacheDir: join(lib, 'Caches', 'Bulwark'),
    };
  }
  return {
    dataDir: join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'bulwark'),
    configDir: join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'bulwark'),
    cacheDir: join(env.XDG_CACHE_HOME ?? join(home, '.cache'), 'bulwark'),
  };
}

/** One catalog file per repository id, in the data dir. */
export const catalogPathFor = (paths: LocalPaths, repoId: string): string =>
  join(paths.dataDir, 'catalogs', `${repoId}.db`);

/** The embedded default: a local repository folder used when no target is configured. */
export const defaultRepositoryDir = (paths: LocalPaths): string => join(paths.dataDir, 'repository');
export const defaultKeyFile = (paths: LocalPaths): string =>
  join(paths.configDir, 'default-repository.password');

/** Access bits of Bulwark's own folders (catalogs hold decrypted file names; keys; pack build files). */
export const PRIVATE_DIR_MODE = 0o700;
/** Access bits of its databases (service.db, catalogs) and their -wal/-shm/-journal companions. */
export const PRIVATE_FILE_MODE = 0o600;

const checksModes = (): boolean => process.platform !== 'win32';

/**
 * Creates `dir` (and missing parents) private to this account, or tightens an existing one that others
 * may enter or read. Returns the mode it had when it had to be tightened, else undefined.
 */
export function ensurePrivateDir(dir: string): number | undefined {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (!checksModes()) return undefined; // Windows: access is decided by ACLs, not mode bits
  const mode = statSync(dir).mode & 0o7777;
  if ((mode & 0o077) === 0) return undefined;
  chmodSync(dir, PRIVATE_DIR_MODE);
  return mode;
}

/**
 * The data, config and cache folders, private (see ensurePrivateDir); returns those that had to be
 * tightened, with their old mode, for the caller to say so (once: afterwards they are private).
 */
export function ensurePrivateDirs(paths: LocalPaths): { dir: string; mode: number }[] {
  const fixed: { dir: string; mode: number }[] = [];
  for (const dir of new Set([paths.dataDir, paths.configDir, paths.cacheDir])) {
    const mode = ensurePrivateDir(dir);
    if (mode !== undefined) fixed.push({ dir, mode });
  }
  return fixed;
}

/**
 * Makes a SQLite database file private before SQLite opens it: creates it empty with mode 0600 when it
 * does not exist yet, and tightens it and any -wal/-shm/-journal file left next to it. SQLite (unix VFS)
 * creates the -wal and -shm files with the mode of the database file itself, so they follow. This is
 * done on the file rather than with a temporary umask: the umask is process-wide (another thread may
 * create files meanwhile) and cannot be changed in worker threads. Returns the files it tightened.
 * In-memory and URI databases are left alone.
 */
export function preparePrivateDbFile(path: string): string[] {
  if (path === '' || path === ':memory:' || path.startsWith('file:')) return [];
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  if (!checksModes()) return [];
  const fixed: string[] = [];
  for (const p of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    let mode: number;
    try {
      mode = lstatSync(p).mode;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // no such companion: nothing to tighten
      throw e;
    }
    if ((mode & 0o077) === 0) continue;
    chmodSync(p, PRIVATE_FILE_MODE);
    fixed.push(p);
  }
  return fixed;
}
