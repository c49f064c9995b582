/**
 * Include/exclude filtering of a backup, shared by the scanner (worker thread) and the service's watcher.
 */
import { isAbsolute, matchesGlob, relative, sep } from 'node:path';

/** Whether `p` is `dir` or lies inside it ("..config" is a name inside; only ".." and "../x" leave). */
export function isInside(dir: string, p: string): boolean {
  const rel = relative(dir, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * A matcher for a source's include/exclude patterns, on absolute paths under one of its roots. A pattern
 * without '/' matches a name at any depth ('*.tmp', 'node_modules'); one with '/' matches the path relative
 * to the root ('cache/**'). A path is excluded when it or one of its folders matches an exclude pattern;
 * with include patterns, a file is kept only if it matches one (folders are always entered).
 */
export function compileFilter(
  roots: readonly string[],
  include: readonly string[],
  exclude: readonly string[],
): { excluded(path: string): boolean; included(file: string): boolean } {
  const rel = (p: string): string | undefined => {
    for (const r of roots) if (isInside(r, p)) return relative(r, p).split(sep).join('/');
    return undefined;
  };
  const matches = (relPath: string, patterns: readonly string[]): boolean => {
    const segments = relPath.split('/');
    return patterns.some((pat) => {
      if (!pat.includes('/')) return segments.some((s) => matchesGlob(s, pat));
      const p = pat.replace(/^\.?\//, '');
      // 'cache/**' also matches the folder 'cache' itself and everything in it
      for (let i = 1; i <= segments.length; i++)
        if (matchesGlob(segments.slice(0, i).join('/'), p)) return true;
      return p.endsWith('/**') && matchesGlob(relPath, p.slice(0, -3));
    });
  };
  return {
    excluded(path) {
      const r = rel(path);
      return r !== undefined && r !== '' && exclude.length > 0 && matches(r, exclude);
    },
    included(file) {
      if (include.length === 0) return true;
      const r = rel(file);
      return r === undefined || r === '' || matches(r, include);
    },
  };
}
