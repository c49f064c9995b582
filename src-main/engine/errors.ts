/**
 * Every failure the engine reports carries a stable `code`, so callers (CLI, HTTP service, Electron IPC)
 * decide on the code and never parse message text. `hint` says what the user can do about it.
 */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'INVALID_ARGUMENT'
  | 'WRONG_PASSWORD'
  | 'REPO_NOT_FOUND'
  | 'REPO_EXISTS'
  | 'REPO_DAMAGED'
  | 'CORRUPT'
  | 'LOCKED'
  /** the repository's lock policy cannot be trusted (its config was replaced or changed): no backups */
  | 'LOCK_INVARIANT_BROKEN'
  | 'PERMISSION'
  | 'NO_SPACE'
  | 'NETWORK'
  | 'UNSUPPORTED'
  | 'CANCELED'
  | 'IO'
  | 'INTERNAL';

export class BulwarkError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BulwarkError';
    this.code = code;
    this.hint = options?.hint;
  }
}

export function isBulwarkError(e: unknown, code?: ErrorCode): e is BulwarkError {
  return e instanceof BulwarkError && (code === undefined || e.code === code);
}

/** System error codes that mean the disk (or the user's quota) is full. */
export const NO_SPACE_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

/** Maps a Node system error (ENOENT, EACCES, ENOSPC, ...) to a BulwarkError with a useful hint. */
export function fromSystemError(e: unknown, what: string): BulwarkError {
  if (e instanceof BulwarkError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const detail = e instanceof Error ? e.message : String(e);
  switch (code) {
    case 'ENOENT':
      return new BulwarkError('NOT_FOUND', `${what}: not found`, { cause: e });
    case 'EEXIST':
      return new BulwarkError('ALREADY_EXISTS', `${what}: already exists`, { cause: e });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new BulwarkError('PERMISSION', `${what}: permission denied`, {
        cause: e,
        hint: 'Check that the account running Bulwark may read/write this location.',
      });
    case 'ENOSPC':
    case 'EDQUOT':
      return new BulwarkError('NO_SPACE', `${what}: no space left on the device`, {
        cause: e,
        hint: 'Free some space on the target (or choose another target); nothing already written was lost.',
      });
    default:
      return new BulwarkError('IO', `${what}: ${detail}`, { cause: e });
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BulwarkError('CANCELED', 'the operation was canceled');
}
