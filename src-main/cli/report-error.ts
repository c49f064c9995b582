import { isBulwarkError } from '../engine/errors.ts';
import { termSafe } from './format.ts';

/**
 * Prints an error for a person: `bulwark: <message>` and, when known, `  hint: <hint>`. Unexpected errors
 * (not a BulwarkError) show their stack only with --debug. Messages name files and folders (from the disk,
 * a snapshot, the command line), so control characters in them are escaped for the terminal; a stack
 * keeps its lines.
 */
export function reportError(e: unknown, write: (s: string) => void, debug: boolean): void {
  if (isBulwarkError(e)) {
    write(`bulwark: ${termSafe(e.message)}\n`);
    if (e.hint) write(`  hint: ${termSafe(e.hint)}\n`);
    if (debug) {
      if (e.stack) write(`${safeLines(e.stack)}\n`);
      if (e.cause !== undefined) write(`caused by: ${safeLines(describe(e.cause, true))}\n`);
    }
    return;
  }
  write(
    `bulwark: unexpected error: ${debug ? safeLines(describe(e, true)) : termSafe(describe(e, false))}\n`,
  );
  if (!debug) write('  hint: run again with --debug for details, and report it if it persists.\n');
}

function describe(e: unknown, withStack: boolean): string {
  if (e instanceof Error) return withStack && e.stack ? e.stack : e.message;
  return String(e);
}

/** termSafe on each line of a multi-line text (a stack trace). */
const safeLines = (s: string): string => s.split('\n').map(termSafe).join('\n');
