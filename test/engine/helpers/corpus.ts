import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared deterministic corpus generator (../shared/bench/make-corpus.mjs, next to the repo). */
export const MAKE_CORPUS = fileURLToPath(
  new URL('../../../../shared/bench/make-corpus.mjs', import.meta.url),
);

export function makeCorpus(dir: string, scale: number, seed = 42): void {
  if (!existsSync(MAKE_CORPUS)) throw new Error(`make-corpus.mjs not found at ${MAKE_CORPUS}`);
  execFileSync(process.execPath, [MAKE_CORPUS, dir, '--scale', String(scale), '--seed', String(seed)], {
    stdio: 'pipe',
  });
}

export function mutateCorpus(dir: string, seed = 42): void {
  execFileSync(process.execPath, [MAKE_CORPUS, dir, '--mutate', '--seed', String(seed)], { stdio: 'pipe' });
}

export interface Entry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  mtimeMs: number;
  size: number;
  content?: Buffer;
  target?: string;
}

/** Everything a restore must reproduce: type, mode, mtime (ms), contents, link targets. */
export function describeTree(root: string, withContent = true): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const walk = (p: string): void => {
    for (const name of readdirSync(p)) {
      const q = join(p, name);
      const st = lstatSync(q);
      const rel = relative(root, q);
      const e: Entry = {
        type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other',
        mode: st.mode & 0o7777,
        mtimeMs: Math.floor(st.mtimeMs),
        size: st.isFile() ? st.size : 0,
      };
      if (e.type === 'file' && withContent) e.content = readFileSync(q);
      if (e.type === 'symlink') e.target = readlinkSync(q);
      out.set(rel, e);
      if (e.type === 'dir') walk(q);
    }
  };
  walk(root);
  return out;
}
