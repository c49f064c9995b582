import { z } from 'zod';

/**
 * The Result<T> envelope: every IPC and HTTP handler answers with one of these instead of throwing, so a
 * failure crosses the boundary as a typed value (Electron passes only an error's *message* out of
 * `ipcMain.handle`, and callers must decide on `code`, never on message text).
 */

/**
 * Mirrors `ErrorCode` in src-main/engine/errors.ts. Duplicated on purpose: the contract may import zod
 * only. test/contract/contract.test.ts fails to type-check if the two lists drift apart.
 */
export const errorCodes = [
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'INVALID_ARGUMENT',
  'WRONG_PASSWORD',
  'REPO_NOT_FOUND',
  'REPO_EXISTS',
  'REPO_DAMAGED',
  'CORRUPT',
  'LOCKED',
  'LOCK_INVARIANT_BROKEN',
  'PERMISSION',
  'NO_SPACE',
  'NETWORK',
  'UNSUPPORTED',
  'CANCELED',
  'IO',
  'INTERNAL',
] as const;

export const errorCodeSchema = z.enum(errorCodes);
export type ErrorCode = z.infer<typeof errorCodeSchema>;

export const resultErrorSchema = z.object({
  code: errorCodeSchema,
  message: z.string(),
  /** what the user can do about it */
  hint: z.string().optional(),
});
export type ResultError = z.infer<typeof resultErrorSchema>;

export type Ok<T> = { ok: true; value: T };
export type Err = { ok: false; error: ResultError };
export type Result<T> = Ok<T> | Err;

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

export function err(code: ErrorCode, message: string, hint?: string): Err {
  return { ok: false, error: hint === undefined ? { code, message } : { code, message, hint } };
}

/** The schema of `Result<T>` for a given value schema (used to check what comes back over a transport). */
export function resultSchema<T extends z.ZodType>(value: T) {
  return z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), value }),
    z.object({ ok: z.literal(false), error: resultErrorSchema }),
  ]);
}

/**
 * Turns anything thrown into a ResultError without leaking internals: an object that already carries a
 * known `code` (e.g. the engine's BulwarkError) keeps its code, message and hint; anything else becomes
 * INTERNAL with a generic message.
 */
export function toResultError(e: unknown): ResultError {
  const parsed = resultErrorSchema.safeParse(
    typeof e === 'object' && e !== null
      ? {
          code: (e as { code?: unknown }).code,
          message: (e as { message?: unknown }).message,
          hint: (e as { hint?: unknown }).hint ?? undefined,
        }
      : undefined,
  );
  if (parsed.success) return parsed.data;
  return { code: 'INTERNAL', message: 'unexpected internal error' };
}
