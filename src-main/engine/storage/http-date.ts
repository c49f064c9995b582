// Kept apart from s3.ts so that code needing only this (target check) does not load the AWS SDK at startup
// (~0.17 s of every CLI command).

/** The Date header of a raw HTTP response, if any. */
export function dateHeader(response: unknown): Date | undefined {
  const headers = (response as { headers?: unknown } | undefined)?.headers;
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (k.toLowerCase() === 'date' && typeof v === 'string') {
      const d = new Date(v);
      return Number.isFinite(d.getTime()) ? d : undefined;
    }
  }
  return undefined;
}
