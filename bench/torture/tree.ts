/**
 * Comparing a restore with the source as it was: every regular file by size and SHA-256, folders by name.
 * A restore writes each file under a temporary name (`.<name>.bulwark-<random>` or `.bulwark-<random>`) and
 * renames it only when it is whole, so a file of that name left behind is half-written work.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface FileSum {
  size: number;
  sha256: string;
}

/** Relative path (with '/') of every regular file under dir, with its size and hash. */
export type Manifest = Map<string, FileSum>;

const TEMP_NAME = /(^|\/)\.(.+\.)?bulwark-[^/]+$/;

export function isTempName(rel: string): boolean {
  return TEMP_NAME.test(rel);
}

function hashFile(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** Files under dir (symlinks and other non-files are listed with size -1 and hash 'not a file'). */
export function manifest(dir: string): Manifest {
  const out: Manifest = new Map();
  const walk = (abs: string, rel: string): void => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const a = path.join(abs, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(a, r);
      else if (e.isFile()) out.set(r, { size: fs.statSync(a).size, sha256: hashFile(a) });
      else out.set(r, { size: -1, sha256: 'not a file' });
    }
  };
  if (fs.existsSync(dir)) walk(dir, '');
  return out;
}

export function totalBytes(m: Manifest): number {
  let n = 0;
  for (const f of m.values()) n += Math.max(0, f.size);
  return n;
}

export interface Comparison {
  /** files of the source restored with the right bytes */
  equal: number;
  /** files of the source not restored (no file under that name) */
  missing: string[];
  /** files under a real name whose bytes differ from the source: the worst outcome */
  wrong: string[];
  /** temporary names of the restore left behind (half-written work) */
  leftovers: string[];
  /** other files that are not in the source */
  extra: string[];
}

/** Compares what a restore put in `dir` with the source manifest. */
export function compare(source: Manifest, dir: string): Comparison {
  const got = manifest(dir);
  const c: Comparison = { equal: 0, missing: [], wrong: [], leftovers: [], extra: [] };
  for (const [rel, want] of source) {
    const have = got.get(rel);
    if (!have) c.missing.push(rel);
    else if (have.size !== want.size || have.sha256 !== want.sha256) c.wrong.push(rel);
    else c.equal++;
  }
  for (const rel of got.keys()) {
    if (source.has(rel)) continue;
    if (isTempName(rel)) c.leftovers.push(rel);
    else c.extra.push(rel);
  }
  return c;
}

export function isIdentical(c: Comparison): boolean {
  return c.missing.length === 0 && c.wrong.length === 0 && c.leftovers.length === 0 && c.extra.length === 0;
}

/** One line: "706 equal, 3 missing (a, b, c), ..." */
export function describe(c: Comparison, shown = 3): string {
  const part = (label: string, xs: string[]): string =>
    xs.length === 0
      ? ''
      : `, ${xs.length} ${label} (${xs.slice(0, shown).join(', ')}${xs.length > shown ? ', …' : ''})`;
  return (
    `${c.equal} equal` +
    part('missing', c.missing) +
    part('WITH WRONG BYTES', c.wrong) +
    part('half-written left under a temporary name', c.leftovers) +
    part('extra', c.extra)
  );
}

/** Bytes used on the file system holding dir (statfs). */
export function usedBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return (s.blocks - s.bfree) * s.bsize;
}

/** Apparent size of everything under dir. */
export function duBytes(dir: string): number {
  let n = 0;
  const walk = (abs: string): void => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const a = path.join(abs, e.name);
      if (e.isDirectory()) walk(a);
      else n += fs.lstatSync(a).size;
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return n;
}
