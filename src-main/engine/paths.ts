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
