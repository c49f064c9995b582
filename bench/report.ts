/** Medians and the plain-text tables the benchmark prints. */

export function median(xs: readonly number[]): number | null {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export interface Row {
  label: string;
  /** one cell per column: a number (formatted with digits), a string (shown as is) or null ('-') */
  values: (number | string | null)[];
  digits?: number;
}

export function fmt(v: number | string | null, digits = 2): string {
  if (v === null) return '-';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return '-';
  return v.toFixed(digits);
}

export function ratio(a: number | string | null, b: number | string | null): string {
  if (typeof a !== 'number' || typeof b !== 'number' || b === 0 || !Number.isFinite(a / b)) return '-';
  return `${(a / b).toFixed(2)}x`;
}

/** A table with a first label column and right-aligned value columns. */
export function table(headers: string[], rows: Row[]): string {
  const cells = rows.map((r) => [r.label, ...r.values.map((v) => fmt(v, r.digits))]);
  const all = [headers, ...cells];
  const widths = headers.map((_, i) => Math.max(...all.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) =>
    c
      .map((x, i) => (i === 0 ? x.padEnd(widths[i] ?? 0) : x.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(headers), sep, ...cells.map(line)].join('\n');
}

export const MB = 1e6;
export const MiB = 2 ** 20;
