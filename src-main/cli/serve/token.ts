import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

import { TOKEN_PATTERN } from '../../contract/http.ts';
import { BulwarkError } from '../../engine/errors.ts';
import type { LocalPaths } from '../../engine/paths.ts';
import { fileError } from '../fs-errors.ts';

/**
 * The per-install token of `bulwark serve`: 32 random bytes (base64url), created once in
 * `<configDir>/service-token` with mode 0600 and kept across restarts, so a browser tab stays usable.
 * Deleting the file makes the next start create a new one (every link printed before stops working).
 */

export const SERVICE_TOKEN_FILE = 'service-token';

export const serviceTokenFile = (paths: LocalPaths): string => join(paths.configDir, SERVICE_TOKEN_FILE);

export interface ServiceToken {
  token: string;
  file: string;
  /** true when this call created the token (the first start): the only time it is printed unasked */
  created: boolean;
}

function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw fileError(e, `the service token file ${file}`);
  }
  const token = text.trim();
  if (!TOKEN_PATTERN.test(token)) {
    throw new BulwarkError('CORRUPT', `the service token file ${file} does not hold a valid token`, {
      hint: 'Delete it: the next `bulwark serve` creates a new token (links printed before stop working).',
    });
  }
  // Someone loosened the mode: the token is a password, keep it private to this account.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return token;
}

/** Reads the token, creating it (exclusively, 0600) when it does not exist yet. */
export function loadOrCreateServiceToken(file: string): ServiceToken {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  } catch (e) {
    throw fileError(e, `the folder of ${file}`);
  }
  const token = randomBytes(32).toString('base64url');
  let fd: number;
  try {
    // 'wx': fails when the file exists, so two starts racing never end up with two different tokens
    fd = openSync(file, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      return { token: readToken(file), file, created: false };
    throw fileError(e, `the service token file ${file}`);
  }
  try {
    chmodSync(file, 0o600); // whatever the umask
    writeSync(fd, `${token}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { token, file, created: true };
}
