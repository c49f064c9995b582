import { isBulwarkError } from '../engine/errors.ts';

/** The `bulwark` command's exit codes (also printed by `bulwark --help`). */
export const EXIT = {
  OK: 0,
  /** the operation failed, or found problems (verify), or left entries out (backup, restore) */
  FAILURE: 1,
  /** bad command line, missing password source, invalid argument */
  USAGE: 2,
  /** wrong password, or access to the repository/files denied */
  ACCESS: 3,
  /** canceled with Ctrl-C */
  CANCELED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `
Exit codes:
  0    success
  1    failure, or problems found (verify), or entries skipped (backup, restore)
  2    usage error (bad option or argument, no password given)
  3    wrong password, or access denied
  130  canceled (Ctrl-C)`;

/** Maps any error to an exit code, by BulwarkError code (never by message). */
export function exitCodeFor(e: unknown): ExitCode {
  if (!isBulwarkError(e)) return EXIT.FAILURE;
  switch (e.code) {
    case 'INVALID_ARGUMENT':
      return EXIT.USAGE;
    case 'WRONG_PASSWORD':
    case 'PERMISSION':
      return EXIT.ACCESS;
    case 'CANCELED':
      return EXIT.CANCELED;
    default:
      return EXIT.FAILURE;
  }
}
