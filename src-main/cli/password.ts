import { readFileSync } from 'node:fs';
import { BulwarkError } from '../engine/errors.ts';
import { firstLine } from '../engine/util/first-line.ts';
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
  return firstLine(text);
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

// The default repository's key file lives in the engine (shared with the backup service).
export { readDefaultKey, createDefaultKey } from '../engine/default-repo.ts';
