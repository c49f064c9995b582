/**
 * How a restored file takes its name when something may already be there (restore plans: restore-plan.ts).
 * Shared by the main thread (symlinks, the checks before writing) and the writer threads (files), so both
 * decide the same way. Node has no renameat2(RENAME_NOREPLACE); a name that must not replace anything is
 * taken with link(temp, name), which fails with EEXIST when the name is taken, then the temporary name is
 * removed: two calls instead of one rename, only where the name was free when last looked at.
 */
import { linkSync, lstatSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { BulwarkError } from '../errors.ts';
import { encodeFsName, fsPath, hasEscapedBytes } from '../util/fs-names.ts';

/** What to do with a file that exists at a name with other content (restore.start, --on-conflict). */
export type ConflictPolicy = 'overwrite' | 'keep-both' | 'skip' | 'if-newer';

/** What sat at a name (lstat, never followed): enough to notice that it changed since it was looked at. */
export interface NameState {
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  /** nanoseconds since the epoch, decimal */
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  dev: string;
}

/**
 * How one name is taken. `expect` is what the main thread saw there when it decided (null: nothing); a
 * name that no longer holds it was created or changed meanwhile, which is a conflict under `onChange`
 * ('fail': leave it and report it, the default of a restore run without a policy). `beside`: keep-both was
 * decided, the file goes next to what is there under a new name built with `label`.
 */
export interface Placement {
  expect: NameState | null;
  beside: boolean;
  onChange: ConflictPolicy | 'fail';
  /** "restored 2026-11-28 14.05": the words inside the parentheses of a kept-both name */
  label: string;
}

/** What taking the name came to. */
export type Taking =
  { how: 'create' | 'replace' | 'beside'; changed: boolean } | { how: 'skip'; changed: boolean };

/** What is at `path` now, or null when nothing is (other errors are thrown). */
export function stateAt(path: string): NameState | null {
  let st;
  try {
    // throwIfNoEntry: a missing name (the common case of a restore into a new folder) builds no error
    st = lstatSync(fsPath(path), { bigint: true, throwIfNoEntry: false });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOTDIR: a file where a folder on the way should be; nothing can be at the name itself
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw e;
  }
  if (st === undefined) return null;
  return {
    type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other',
    size: Number(st.size),
    mtimeNs: st.mtimeNs.toString(),
    ctimeNs: st.ctimeNs.toString(),
    ino: st.ino.toString(),
    dev: st.dev.toString(),
  };
}

/** The same entry, unchanged (ctime too: a rewrite that put the old mtime back is still a change). */
export function sameState(a: NameState | null, b: NameState | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.type === b.type &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs &&
    a.ino === b.ino &&
    a.dev === b.dev
  );
}

/**
 * How to take `path` for an entry recorded with `mtimeNs`, looking at the name now. Throws ALREADY_EXISTS
 * when the name changed and the policy is 'fail'.
 */
export function decideTaking(path: string, place: Placement, mtimeNs: string, fresh = false): Taking {
  if (place.beside) return { how: 'beside', changed: false };
  // a folder this restore created (0700): nothing can be at a name in it but what the restore put there
  if (fresh && place.expect === null) return { how: 'create', changed: false };
  const now = stateAt(path);
  if (sameState(now, place.expect)) return { how: now === null ? 'create' : 'replace', changed: false };
  // removed meanwhile: there is nothing left to conflict with
  if (now === null) return { how: 'create', changed: true };
  switch (place.onChange) {
    case 'overwrite':
      return { how: 'replace', changed: true };
    case 'skip':
      return { how: 'skip', changed: true };
    case 'if-newer':
      return { how: BigInt(mtimeNs) > BigInt(now.mtimeNs) ? 'replace' : 'skip', changed: true };
    case 'keep-both':
      return { how: 'beside', changed: true };
    case 'fail':
      throw new BulwarkError(
        'ALREADY_EXISTS',
        'something was created or changed at this name after the restore was planned: left as it is, not restored',
      );
  }
}

/** Errors of link() that say "no hard links here" (FAT, some network shares), not "the name is taken". */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EXDEV']);

/**
 * Gives the finished temporary file `tmp` the name `path` unless something is there: true when it did
 * (the temporary name is gone), false when the name is taken (`tmp` is left as it is). Where the file
 * system has no hard links, the name is looked at, then renamed to: a window of a few microseconds in which
 * a file created at the name would be replaced.
 */
export function takeFreeName(tmp: string, path: string): boolean {
  try {
    linkSync(fsPath(tmp), fsPath(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === undefined || !NO_LINKS.has(code)) throw e;
    if (stateAt(path) !== null) return false;
    renameSync(fsPath(tmp), fsPath(path));
    return true;
  }
  unlinkSync(fsPath(tmp));
  return true;
}

const NAME_MAX = 255;
const byteLength = (s: string): number =>
  hasEscapedBytes(s) ? encodeFsName(s).length : Buffer.byteLength(s);

/**
 * The name a kept-both copy of `name` gets: `report (restored 2026-11-28 14.05).xlsx`, then
 * `report (restored 2026-11-28 14.05) 2.xlsx`, ... (`n` from 1). The stem is shortened when the name would
 * be longer than a file system allows (255 bytes).
 */
export function keepBothName(name: string, label: string, n: number): string {
  // ".bashrc" has no extension: the whole name is the stem
  const ext = extname(name) === name ? '' : extname(name);
  let stem = name.slice(0, name.length - ext.length);
  const tail = ` (${label})${n > 1 ? ` ${n}` : ''}${ext}`;
  while (stem.length > 1 && byteLength(stem + tail) > NAME_MAX) {
    // drop whole characters: never half of a surrogate pair
    const last = stem.codePointAt(stem.length - 2) ?? 0;
    stem = stem.slice(0, last > 0xffff ? -2 : -1);
  }
  return stem + tail;
}

/** Gives `tmp` the first free kept-both name next to `path`; returns that path. */
export function takeNameBeside(tmp: string, path: string, label: string): string {
  const dir = dirname(path);
  const name = basename(path);
  for (let n = 1; n <= 1000; n++) {
    const candidate = join(dir, keepBothName(name, label, n));
    if (takeFreeName(tmp, candidate)) return candidate;
  }
  throw new BulwarkError('ALREADY_EXISTS', 'no free name was found beside the existing file');
}

/** "restored 2026-11-28 14.05" (local time of the computer, which is what its user reads). */
export function keepBothLabel(at: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return (
    `restored ${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())} ` +
    `${p(at.getHours())}.${p(at.getMinutes())}`
  );
}
