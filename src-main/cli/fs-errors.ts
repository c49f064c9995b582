import { BulwarkError, isBulwarkError } from '../engine/errors.ts';

/**
 * Maps a Node system error from the CLI's own file access (password files, paths to back up) to a
 * BulwarkError. (The engine has `fromSystemError`, but its public API does not export it.)
 */
export function fileError(e: unknown, what: string, hint?: string): BulwarkError {
  if (isBulwarkError(e)) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const h = hint === undefined ? {} : { hint };
  switch (code) {
    case 'ENOENT':
      return new BulwarkError('NOT_FOUND', `${what}: not found`, { cause: e, ...h });
    case 'ENOTDIR':
      return new BulwarkError('NOT_FOUND', `${what}: a parent is not a folder`, { cause: e, ...h });
    case 'EISDIR':
      // a folder where a file is read (e.g. --password-file DIR): the command line is wrong
      return new BulwarkError('INVALID_ARGUMENT', `${what} is a folder, not a file`, {
        cause: e,
        hint: hint ?? 'Give the path of the file itself.',
      });
    case 'EACCES':
    case 'EPERM':
      return new BulwarkError('PERMISSION', `${what}: permission denied`, {
        cause: e,
        hint: hint ?? 'Check that this account may read it.',
      });
    default:
      return new BulwarkError('IO', `${what}: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
        ...h,
      });
  }
}
