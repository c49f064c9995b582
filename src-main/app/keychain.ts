import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import type { SafeStorageLike } from '../host/secrets.ts';

/**
 * The key that seals target secrets, kept wrapped by the OS keychain (Electron safeStorage: Keychain on
 * macOS, DPAPI on Windows, the Secret Service / KWallet on Linux). safeStorage exists only in the main
 * process, while the secrets are read in the service process: so the main process unwraps this one key and
 * hands it over at start (protocol.ts `init`), and the service seals each secret with it (sealing-key.ts).
 */

/** The part of Electron's safeStorage read here (structural, so tests pass a fake). */
export interface KeychainLike extends SafeStorageLike {
  /** Linux only: which store safeStorage chose ('basic_text' is a fixed password, not a keychain) */
  getSelectedStorageBackend?(): string;
}

export const SEALING_KEY_BYTES = 32;

/** True when safeStorage is backed by a real keychain (not Chromium's fixed-password fallback on Linux). */
export function keychainAvailable(safe: KeychainLike): boolean {
  if (!safe.isEncryptionAvailable()) return false;
  const backend = safe.getSelectedStorageBackend?.();
  return backend === undefined || (backend !== 'basic_text' && backend !== 'unknown');
}

export type SealingKey =
  { available: true; key: Buffer; created: boolean } | { available: false; reason: string };

/**
 * The sealing key from `file` (unwrapped by the keychain), created on the first start. Without a keychain
 * there is no key and the secrets stay in 0600 files. A wrapped key the keychain cannot open any more (the
 * account's keychain was reset) is an error, never silently replaced: the sealed secrets would be lost.
 */
export function loadSealingKey(file: string, safe: KeychainLike): SealingKey {
  if (!keychainAvailable(safe))
    return {
      available: false,
      reason: 'this computer offers no keychain to the app; secrets stay in private files',
    };
  let wrapped: Buffer | undefined;
  try {
    wrapped = readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (wrapped) {
    const key = Buffer.from(safe.decryptString(wrapped), 'base64');
    if (key.length !== SEALING_KEY_BYTES) throw new Error(`the key in ${file} is not a sealing key`);
    return { available: true, key, created: false };
  }
  const key = randomBytes(SEALING_KEY_BYTES);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, safe.encryptString(key.toString('base64')), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return { available: true, key, created: true };
}
