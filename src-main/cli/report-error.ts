import { isBulwarkError } from '../engine/index.ts';

/**
 * Prints an error for a person: `bulwark: <message>` and, when known, `  hint: <hint>`. Unexpected errors
 * (not a BulwarkError) show their stack only with --debug.
 */
export function reportError(e: unknown, write: (s: string) => void, debug: boolean): void {
  if (isBulwarkError(e)) {
    write(`bulwark: ${e.message}\n`);
    if (e.hint) write(`  hint: ${e.hint}\n`);
    if (debug) {
      if (e.stack) write(`${e.stack}\n`);
      if (e.cause !== undefined) write(`caused by: ${describe(e.cause, true)}\n`);
    }
    return;
  }
  write(`bulwark: unexpected error: ${describe(e, debug)}\n`);
  if (!debug) write('  hint: run again with --debug for details, and report it if it persists.\n');
}

function describe(e: unknown, withStack: boolean): string {
  if (e instanceof Error) return withStack && e.stack ? e.stack : e.message;
  return String(e);
}
