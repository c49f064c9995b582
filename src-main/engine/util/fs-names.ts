/**
 * File names and symlink targets are bytes on Linux and macOS, not text: a share written by an old Samba
 * or NAS holds Latin-1 names (`caf\xe9.txt`) that are not valid UTF-8. Node turns such bytes into U+FFFD
 * when it gives a name as a string, and the string then names no file at all: the name is lost.
 *
 * Inside Bulwark a name is a JS string made from its bytes by UTF-8 with *surrogate escape* (as Python's
 * os.fsdecode): each byte that is not part of a valid UTF-8 sequence becomes the lone surrogate
 * U+DC80+byte (0x80–0xFF → U+DC80–U+DCFF). A valid UTF-8 name is the string it always was, so trees,
 * filters and messages treat names as text, old snapshots read the same, and JSON keeps the escapes exact
 * (`"caf\udce9.txt"`). Only at a file-system call is the string turned back into bytes (fsPath).
 * Lone surrogates never come out of valid UTF-8 (its decoders reject the encoded surrogates ED A0–BF xx),
 * so an escape cannot be confused with a real character and every byte sequence round-trips.
 */
import { isUtf8 } from 'node:buffer';
import { sep } from 'node:path';
import { getSystemErrorMessage } from 'node:util';

/** An escaped byte; the `u` flag matches lone surrogates only, never the low half of a real pair (💀). */
const ESCAPE = /[\udc80-\udcff]/u;
const ESCAPE_RUNS = /([\udc80-\udcff]+)/u;

/** The Bulwark name of a name's bytes (see above): the plain string when the bytes are valid UTF-8. */
export function decodeFsName(buf: Uint8Array): string {
  if (isUtf8(buf)) return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8');
  const units: number[] = [];
  const n = buf.length;
  let i = 0;
  while (i < n) {
    const c = buf[i]!;
    if (c < 0x80) {
      units.push(c);
      i++;
      continue;
    }
    // Strict UTF-8 (RFC 3629): no overlong forms (C0, C1, E0 80–9F, F0 80–8F), no surrogates (ED A0–BF),
    // nothing above U+10FFFF (F4 90–, F5–FF). What does not decode is escaped one byte at a time, so the
    // decoding resumes at the next byte (as Python's decoder does).
    const len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    let cp = -1;
    if (len > 0 && i + len <= n) {
      const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
      const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
      const c1 = buf[i + 1]!;
      if (c1 >= lo && c1 <= hi) {
        cp = (c & (0xff >> (len + 1))) * 64 + (c1 & 0x3f);
        for (let k = 2; k < len; k++) {
          const ck = buf[i + k]!;
          if (ck < 0x80 || ck > 0xbf) {
            cp = -1;
            break;
          }
          cp = cp * 64 + (ck & 0x3f);
        }
      }
    }
    if (cp < 0) {
      units.push(0xdc00 + c);
      i++;
    } else if (cp < 0x10000) {
      units.push(cp);
      i += len;
    } else {
      units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
      i += len;
    }
  }
  let out = '';
  for (let k = 0; k < units.length; k += 8192) out += String.fromCharCode(...units.slice(k, k + 8192));
  return out;
}

/** True when `s` holds an escaped byte (it names a file whose name is not valid UTF-8). */
export function hasEscapedBytes(s: string): boolean {
  return ESCAPE.test(s);
}

/** The bytes a Bulwark name or path stands for: escapes become their byte, the rest is UTF-8. */
export function encodeFsName(s: string): Buffer {
  const parts = s.split(ESCAPE_RUNS);
  // split with a capturing group: even indexes are text, odd ones runs of escapes
  return Buffer.concat(
    parts.map((p, i) =>
      i % 2 === 0 ? Buffer.from(p, 'utf8') : Buffer.from(Array.from(p, (ch) => ch.charCodeAt(0) - 0xdc00)),
    ),
  );
}

/**
 * What to hand to a file-system call for a Bulwark path: the string itself (the common case, no copy) or,
 * when it holds escaped bytes, a Buffer with the exact bytes (Node's fs takes Buffer paths).
 */
export function fsPath(s: string): string | Buffer {
  return ESCAPE.test(s) ? encodeFsName(s) : s;
}

/**
 * The text of a file-system error without the path Node puts in its message: a Buffer path shows there
 * with U+FFFD in place of the bytes, and the caller reports the path (as Bulwark names it) beside it.
 * "ENOENT: no such file or directory (lstat)"; anything else: its message.
 */
export function fsErrorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException | undefined;
  if (err && typeof err.code === 'string' && typeof err.errno === 'number') {
    let text: string;
    try {
      text = getSystemErrorMessage(err.errno);
    } catch {
      text = err.message; // an errno Node does not know: its own message still says what happened
    }
    return `${err.code}: ${text}${err.syscall ? ` (${err.syscall})` : ''}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * The path of `name` in folder `dir`, for one plain name (a name a restore accepts: never "", ".", "..",
 * no separator): joined without normalizing, which path.join does character by character (a restore of
 * 80 000 small files joined its paths a few times each: ~450 MB of short-lived strings on the main thread).
 */
export function childPath(dir: string, name: string): string {
  return dir.endsWith(sep) ? dir + name : dir + sep + name;
}
