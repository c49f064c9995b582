import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { BulwarkError, isBulwarkError } from '../engine/index.ts';
import { fileError } from './fs-errors.ts';
import { promptHidden } from './prompt.ts';

export interface PasswordOptions {
  passwordFile?: string;
}

const HOW =
  'Set the environment variable BULWARK_PASSWORD, or pass --password-file FILE (its first line is the ' +
  'password); when run in a terminal, bulwark asks for it.';

/** The first line of a file, without its line ending (spaces are kept: they may be part of the password). */
export function readFirstLine(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw fileError(e, what);
  }
  return /^[^\r\n]*/.exec(text)?.[0] ?? '';
}

/**
 * The repository password: --password-file, else BULWARK_PASSWORD, else a prompt without echo when stdin is
 * a terminal (asked twice with `confirm`, for a new repository). Otherwise a usage error saying how to give it.
 */
export async function readPassword(
  opts: PasswordOptions,
  env: NodeJS.ProcessEnv,
  { confirm = false }: { confirm?: boolean } = {},
): Promise<string> {
  if (opts.passwordFile !== undefined) {
    const pw = readFirstLine(opts.passwordFile, `password file ${opts.passwordFile}`);
    if (pw === '') {
      throw new BulwarkError('INVALID_ARGUMENT', `the password file ${opts.passwordFile} is empty`, {
        hint: 'Its first line must hold the password.',
      });
    }
    return pw;
  }
  const fromEnv = env.BULWARK_PASSWORD;
  if (fromEnv !== undefined) {
    if (fromEnv === '')
      throw new BulwarkError('INVALID_ARGUMENT', 'BULWARK_PASSWORD is set but empty', { hint: HOW });
    return fromEnv;
  }
  if (process.stdin.isTTY) {
    const pw = await promptHidden(confirm ? 'New repository password: ' : 'Repository password: ');
    if (pw === '') throw new BulwarkError('INVALID_ARGUMENT', 'the password is empty', { hint: HOW });
    if (confirm) {
      const again = await promptHidden('Repeat the password: ');
      if (again !== pw)
        throw new BulwarkError('INVALID_ARGUMENT', 'the two passwords differ; nothing was created');
    }
    return pw;
  }
  throw new BulwarkError('INVALID_ARGUMENT', 'no repository password given', { hint: HOW });
}

/** The default repository's password from its key file, or undefined if the file does not exist. */
export function readDefaultKey(keyFile: string): string | undefined {
  try {
    const pw = readFirstLine(keyFile, `key file ${keyFile}`);
    if (pw === '') throw new BulwarkError('REPO_DAMAGED', `the key file ${keyFile} is empty`);
    return pw;
  } catch (e) {
    if (isBulwarkError(e, 'NOT_FOUND')) return undefined;
    throw e;
  }
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
    throw fileError(e, `creating the key file ${keyFile}`);
  }
  return pw;
}
