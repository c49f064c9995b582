import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { BulwarkError, fromSystemError, type LocalPaths } from '../engine/index.ts';

/**
 * The secrets of configured targets: the repository password and, for S3, access keys. They are given once
 * (targets.add), kept on the main side and never sent back over the contract. The engine's catalog does
 * not hold them: the default file store writes one 0600 JSON file per target in a 0700 folder of the
 * config dir (like the default repository's key file). The desktop app seals them with the OS keychain
 * instead (sealedSecretStore, below), and moves plain files over on its first start.
 */

export interface TargetSecret {
  password: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

export interface TargetSecretStore {
  get(targetId: string): TargetSecret | undefined;
  set(targetId: string, secret: TargetSecret): void;
  delete(targetId: string): void;
}

export const targetSecretsDir = (paths: LocalPaths): string => join(paths.configDir, 'target-secrets');

const SAFE_ID = /^[A-Za-z0-9_-]{1,100}$/;

function fileOf(dir: string, targetId: string): string {
  if (!SAFE_ID.test(targetId)) throw new BulwarkError('INVALID_ARGUMENT', `bad target id ${targetId}`);
  return join(dir, `${targetId}.json`);
}

function parseSecret(text: string, file: string): TargetSecret {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BulwarkError('CORRUPT', `the secret file ${file} is not valid JSON`, {
      hint: 'Remove the target and add it again with its password.',
    });
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (typeof o.password !== 'string' || o.password === '') {
    throw new BulwarkError('CORRUPT', `the secret file ${file} holds no password`, {
      hint: 'Remove the target and add it again with its password.',
    });
  }
  const secret: TargetSecret = { password: o.password };
  if (typeof o.accessKeyId === 'string' && typeof o.secretAccessKey === 'string') {
    secret.accessKeyId = o.accessKeyId;
    secret.secretAccessKey = o.secretAccessKey;
  }
  return secret;
}

/** One 0600 JSON file per target in `dir` (created 0700). */
export function fileSecretStore(dir: string): TargetSecretStore {
  return {
    get(targetId) {
      const file = fileOf(dir, targetId);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw fromSystemError(e, `secret file ${file}`);
      }
      return parseSecret(text, file);
    },
    set(targetId, secret) {
      const file = fileOf(dir, targetId);
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        chmodSync(dir, 0o700);
        writeFileSync(tmp, `${JSON.stringify(secret)}\n`, { mode: 0o600, flag: 'w' });
        chmodSync(tmp, 0o600); // whatever the umask
        renameSync(tmp, file);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw fromSystemError(e, `secret file ${file}`);
      }
    },
    delete(targetId) {
      rmSync(fileOf(dir, targetId), { force: true });
    },
  };
}

/** A store in memory (tests; a shell that keeps secrets elsewhere). */
export function memorySecretStore(): TargetSecretStore {
  const m = new Map<string, TargetSecret>();
  return {
    get: (id) => m.get(id),
    set: (id, s) => void m.set(id, { ...s }),
    delete: (id) => void m.delete(id),
  };
}

// ---- the OS keychain (Electron safeStorage) --------------------------------------------------------------

/**
 * The part of Electron's `safeStorage` the sealed store uses (structural: host never imports electron). The
 * desktop app passes safeStorage itself where it runs in-process, or a cipher whose key safeStorage unwrapped
 * (src-main/app/keychain.ts) in the service process, where safeStorage is not available.
 */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

const SEALED_EXT = '.sealed';
const PLAIN_EXT = '.json';

function sealedFileOf(dir: string, targetId: string): string {
  return fileOf(dir, targetId).slice(0, -PLAIN_EXT.length) + SEALED_EXT;
}

/** Writes `data` to `file` (0600) through a temp name, so a crash never leaves half a file. */
function writePrivateFile(dir: string, file: string, data: string | Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    writeFileSync(tmp, data, { mode: 0o600, flag: 'w' });
    chmodSync(tmp, 0o600); // whatever the umask
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw fromSystemError(e, `secret file ${file}`);
  }
}

/**
 * One file per target sealed by the keychain (`<id>.sealed`, 0600 too). A target whose secret is still a
 * plain `<id>.json` (written before the keychain was available) is read from it; migratePlainSecrets moves
 * those over. Writing removes the plain file, so a secret never lives in both.
 */
export function sealedSecretStore(dir: string, safe: SafeStorageLike): TargetSecretStore {
  const plain = fileSecretStore(dir);
  return {
    get(targetId) {
      const file = sealedFileOf(dir, targetId);
      let sealed: Buffer;
      try {
        sealed = readFileSync(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return plain.get(targetId);
        throw fromSystemError(e, `secret file ${file}`);
      }
      let text: string;
      try {
        text = safe.decryptString(sealed);
      } catch (e) {
        throw new BulwarkError(
          'CORRUPT',
          `the secret file ${file} cannot be opened with this computer's keychain`,
          {
            hint: 'Remove the target and add it again with its password.',
            cause: e,
          },
        );
      }
      return parseSecret(text, file);
    },
    set(targetId, secret) {
      const file = sealedFileOf(dir, targetId);
      writePrivateFile(dir, file, safe.encryptString(JSON.stringify(secret)));
      plain.delete(targetId);
    },
    delete(targetId) {
      rmSync(sealedFileOf(dir, targetId), { force: true });
      plain.delete(targetId);
    },
  };
}

/**
 * Seals every plain secret file of `dir` with the keychain, checks the sealed copy opens to the same secret,
 * then removes the plain file. Returns the ids moved. A file that fails stays as it was (still readable
 * through the sealed store's fallback) and its error is passed to `onError`; the others still move.
 */
export function migratePlainSecrets(
  dir: string,
  safe: SafeStorageLike,
  onError: (targetId: string, error: unknown) => void,
): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fromSystemError(e, `secret folder ${dir}`);
  }
  const plain = fileSecretStore(dir);
  const moved: string[] = [];
  for (const name of names) {
    if (!name.endsWith(PLAIN_EXT)) continue;
    const targetId = name.slice(0, -PLAIN_EXT.length);
    if (!SAFE_ID.test(targetId)) continue;
    try {
      const secret = plain.get(targetId);
      if (!secret) continue;
      writePrivateFile(dir, sealedFileOf(dir, targetId), safe.encryptString(JSON.stringify(secret)));
      const back = parseSecret(safe.decryptString(readFileSync(sealedFileOf(dir, targetId))), name);
      if (JSON.stringify(back) !== JSON.stringify(secret))
        throw new BulwarkError('CORRUPT', `the sealed copy of ${name} does not read back the same`);
      plain.delete(targetId);
      moved.push(targetId);
    } catch (e) {
      rmSync(sealedFileOf(dir, targetId), { force: true }); // the plain file stays the one in use
      onError(targetId, e);
    }
  }
  return moved;
}

/**
 * The secret store of a host: sealed by the keychain when it is available (plain files migrated first),
 * else the 0600 files.
 */
export function keychainOrFileSecretStore(
  dir: string,
  safe: SafeStorageLike | undefined,
  onMigrationError: (targetId: string, error: unknown) => void,
): { store: TargetSecretStore; keychain: boolean; migrated: string[] } {
  if (!safe?.isEncryptionAvailable()) return { store: fileSecretStore(dir), keychain: false, migrated: [] };
  const migrated = migratePlainSecrets(dir, safe, onMigrationError);
  return { store: sealedSecretStore(dir, safe), keychain: true, migrated };
}
