import { z } from 'zod';

/**
 * Checking a request against its schema so that a refusal reads as plain words. The contract gives the
 * fields a person fills in (a folder, a name, a time limit) messages written for people ("Choose at least
 * one folder."); those are shown as they are, without the channel or the field path. Any other problem
 * (a script sending a wrong type, an unknown field) gets a generic sentence, and the technical detail
 * (field path and zod's message) travels separately, for a hint or a log.
 */

/** Marks the messages zod made up itself (the schema gave none), so they are never shown as plain words. */
const GENERATED = '\u0001';

function generatedMessage(issue: z.core.$ZodRawIssue): string {
  const m = z.core.globalConfig.localeError?.(issue);
  const text = typeof m === 'string' ? m : (m?.message ?? 'Invalid input');
  return GENERATED + text;
}

export type RequestCheck<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      /** for people: the contract's own message, or a generic sentence */
      message: string;
      /** for developers: every problem with its field path */
      detail: string;
      /** true when `message` is one the contract wrote for people */
      plain: boolean;
    };

export function checkRequest<S extends z.ZodType>(schema: S, raw: unknown): RequestCheck<z.output<S>> {
  const r = schema.safeParse(raw, { error: generatedMessage });
  if (r.success) return { ok: true, value: r.data };
  const issues = r.error.issues.map((i) => ({
    where: i.path.map(String).join('.') || '(request)',
    generated: i.message.startsWith(GENERATED),
    text: i.message.startsWith(GENERATED) ? i.message.slice(GENERATED.length) : i.message,
  }));
  const detail = issues.map((i) => `${i.where}: ${i.text}`).join('; ');
  const plain = issues.find((i) => !i.generated);
  return plain
    ? { ok: false, message: plain.text, detail, plain: true }
    : { ok: false, message: 'This request is not valid.', detail, plain: false };
}
