import fs from 'node:fs';
import path from 'node:path';

/** Every entry below `dir` by relative path: a file's bytes, or 'dir' for a folder. */
export function treeOf(dir: string): Map<string, Buffer | 'dir'> {
  const out = new Map<string, Buffer | 'dir'>();
  const walk = (d: string, rel: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out.set(r, 'dir');
        walk(path.join(d, e.name), r);
      } else out.set(r, fs.readFileSync(path.join(d, e.name)));
    }
  };
  walk(dir, '');
  return out;
}
