import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { BulwarkError, fromSystemError, isBulwarkError } from './errors.ts';
import { firstLine } from './util/first-line.ts';
import { defaultKeyFile, defaultRepositoryDir, type LocalPaths } from './paths.ts';
import { initRepository, readConfig, type InitOptions } from './repo/repository.ts';
import type { RepoConfig } from './repo/format.ts';
import { FsStore } from './storage/fs.ts';
import type { BlobStore } from './storage/types.ts';

/**
 * The embedded default repository (used when no target is configured): a folder in the data dir whose
 * password is a random key in a 0600 file in the config dir. Shared by the CLI and the backup service.
 */

/** The default repository's password from its key file, or undefined if the file does not exist. */
export function readDefaultKey(keyFile: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(keyFile, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw fromSystemError(e, `key file ${keyFile}`);
  }
  const pw = firstLine(text);
  if (pw === '') throw new BulwarkError('REPO_DAMAGED', `the key file ${keyFile} is empty`);
  return pw;
}

/**
 * Creates the default repository's key file: 32 random bytes, base64url, mode 0600 in a 0700 folder.
 * Fails (ALREADY_EXISTS) rather than replace an existing key.
 */
export function createDefaultKey(keyFile: string): string {
  const dir = dirname(keyFile);
  const pw = randomBytes(32).toString('base64url');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    writeFileSync(keyFile, `${pw}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(keyFile, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new BulwarkError('ALREADY_EXISTS', `the key file ${keyFile} already exists; not replaced`, {
        cause: e,
      });
    }
    throw fromSystemError(e, `creating the key file ${keyFile}`);
  }
  return pw;
}

/**
 * Initializes the default repository in `store` with the key from `keyFile` (created if missing: a key
 * file left by an earlier attempt is reused, never replaced).
 */
export async function initDefaultRepository(
  store: BlobStore,
  keyFile: string,
  opts: InitOptions = {},
): Promise<{ config: RepoConfig; password: string }> {
  const password = readDefaultKey(keyFile) ?? createDefaultKey(keyFile);
  const config = await initRepository(store, password, opts);
  return { config, password };
}

export interface DefaultRepository {
  /** the repository folder */
  location: string;
  keyFile: string;
  password: string;
  config: RepoConfig;
  /** true when this call created it */
  created: boolean;
}

/** Opens the default repository's config and key, creating both when the repository does not exist. */
export async function ensureDefaultRepository(
  paths: LocalPaths,
  opts: InitOptions = {},
): Promise<DefaultRepository> {
  const location = defaultRepositoryDir(paths);
  const keyFile = defaultKeyFile(paths);
  const store = new FsStore({ root: location, ...(opts.clock ? { clock: opts.clock } : {}) });
  try {
    const config = await readConfig(store);
    const password = readDefaultKey(keyFile);
    if (password === undefined) {
      throw new BulwarkError('NOT_FOUND', `the key file of the default repository (${keyFile}) is missing`, {
        hint: 'Put back the copy of it you kept; without it the default repository cannot be read.',
      });
    }
    return { location, keyFile, password, config, created: false };
  } catch (e) {
    if (!isBulwarkError(e, 'REPO_NOT_FOUND')) throw e;
  }
  const { config, password } = await initDefaultRepository(store, keyFile, opts);
  return { location, keyFile, password, config, created: true };
}
