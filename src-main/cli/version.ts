import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The version from Bulwark's package.json, found upward from this file (sources or dist/). */
export function bulwarkVersion(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'bulwark' && pkg.version) return pkg.version;
    } catch {
      /* not here: look one level up */
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return 'unknown';
}
