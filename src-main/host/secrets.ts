import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { BulwarkError, fromSystemError, type LocalPaths } from '../engine/index.ts';

/**
 * The secrets of configured targets: the repository password and, for S3, access keys. They are given once
 * (targets.add), kept on the main side and never sent back over the contract. The engine's catalog does
 * not hold them: the default file store writes one 0600 JSON file per target in a 0700 folder of the
 * config dir (like the default repository's key file). The Electron shell can pass a store that encrypts
 * with the OS keychain (safeStorage) instead.
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
