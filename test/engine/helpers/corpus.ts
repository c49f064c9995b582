import { readdirSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { makeCorpus as generateCorpus, mutateCorpus as mutateGenerated } from '../../../bench/corpus.ts';

/**
 * The project's deterministic mixed corpus (bench/corpus.ts: office, media, vm images, mbox), built in
 * this process. Scale 1 is about 1 GiB; the same seed gives the same bytes.
 */
export function makeCorpus(dir: string, scale: number, seed = 42): void {
  generateCorpus(dir, { scale, seed });
}

/** A working day on a corpus made by makeCorpus (edits, deletes, adds, a vm insert, a folder rename). */
export function mutateCorpus(dir: string, seed = 42): void {
  mutateGenerated(dir, { seed });
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
