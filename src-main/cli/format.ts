/** Pure formatting helpers for human-readable CLI output (no I/O). */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** 1536 -> "1.5 KiB" (binary units, 3 significant digits). */
export function humanBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?';
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${v} B`;
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${UNITS[u]}`;
}

/** seconds -> "0:42", "12:03", "3:07:55" */
export function clockDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** milliseconds -> "850 ms", "12.3 s", "4 min 05 s" */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = `${String(s % 60).padStart(2, '0')} s`;
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min ${rest}` : `${m} min ${rest}`;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** ISO time -> "2026-01-31 14:05:09" in the local time zone. */
export function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  );
}

const TYPE_CHAR: Record<string, string> = {
  file: '-',
  dir: 'd',
  symlink: 'l',
  fifo: 'p',
  socket: 's',
  chardev: 'c',
  blockdev: 'b',
};

/** ("dir", 0o755) -> "drwxr-xr-x" (setuid/setgid/sticky shown like ls). */
export function modeString(type: string, mode: number): string {
  const rwx = (bits: number, special: boolean, specialChar: string): string => {
    const x = bits & 1 ? (special ? specialChar : 'x') : special ? specialChar.toUpperCase() : '-';
    return `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${x}`;
  };
  return (
    (TYPE_CHAR[type] ?? '?') +
    rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, 's') +
    rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, 's') +
    rwx(mode & 7, (mode & 0o1000) !== 0, 't')
  );
}

export type Align = 'left' | 'right';

/** Formats rows as aligned columns separated by two spaces (last column never padded). */
export function table(header: string[], rows: string[][], align: Align[] = []): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) =>
    r
      .map((cell, i) => {
        if (i === r.length - 1 && align[i] !== 'right') return cell;
        const w = widths[i] ?? 0;
        return align[i] === 'right' ? cell.padStart(w) : cell.padEnd(w);
      })
      .join('  ')
      .trimEnd(),
  );
}

/** Shortens a string to `max` characters, keeping the end (the interesting part of a path). */
export function ellipsizeStart(s: string, max: number): string {
  if (max <= 1) return '';
  return s.length <= max ? s : `…${s.slice(s.length - max + 1)}`;
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/**
 * Characters a terminal would act on instead of showing: C0 controls (newline, carriage return, tab,
 * escape...), DEL, C1 controls (U+0080–U+009F; U+009B is a one-character CSI on some terminals), the line
 * and paragraph separators, and the bidirectional controls that make text display in another order than
 * it is stored ("invoice\u202Efdp.exe" shows as "invoiceexe.pdf"). Also lone surrogates (the `u` flag
 * matches a surrogate only when it is not half of a pair): a byte of a file name that is not UTF-8 is
 * U+DC80–U+DCFF inside Bulwark (engine/util/fs-names.ts), and written as text it would become "�".
 */
const UNSAFE_FOR_TERMINAL =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]/gu;

const C_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * A file name, path or other text from a snapshot or the disk, made safe to print on a terminal: what
 * UNSAFE_FOR_TERMINAL matches becomes a visible escape (`\n`, `\r`, `\t`, `\x1b`, `\u202e`), so a name cannot
 * clear the screen, move the cursor, forge output lines or reorder what is shown; a name's byte that is not
 * UTF-8 shows as that byte (`caf\xe9.txt`), another lone surrogate as `\udXXX`. Everything else (a
 * backslash too) is left as it is. Human output only: --json keeps the exact text (JSON escapes controls,
 * and lone surrogates as `\udce9`).
 */
export function termSafe(s: string): string {
  return s.replace(UNSAFE_FOR_TERMINAL, (c) => {
    const known = C_ESCAPES[c];
    if (known !== undefined) return known;
    const code = c.charCodeAt(0);
    if (code >= 0xdc80 && code <= 0xdcff) return `\\x${(code - 0xdc00).toString(16)}`;
    return code < 0x80
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
