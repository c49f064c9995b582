import { basename } from 'node:path';

/**
 * Where a path of a snapshot was on disk. A snapshot's root tree holds one entry per backed-up path of its
 * manifest, named by the path's last segment ("root" for "/"), with `~2`, `~3`… added when two end alike
 * (backup.ts builds it so, in the order of `paths`); `Documents/2024/a.pdf` is then the file
 * `<the path named Documents>/2024/a.pdf`.
 */
export function rootNames(paths: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of paths) {
    const base = basename(p) || 'root';
    let name = base;
    for (let k = 2; out.has(name); k++) name = `${base}~${k}`;
    out.set(name, p);
  }
  return out;
}

/** A Windows path (drive letter or UNC share) joins with backslashes; everything else with "/". */
const separatorOf = (base: string): string => (/^[A-Za-z]:[\\/]|^\\\\/.test(base) ? '\\' : '/');

/**
 * The on-disk path of `path` (relative to the snapshot root) in a snapshot of `paths`; the path itself when
 * its first segment names no backed-up path (a snapshot made by hand).
 */
export function originalPath(roots: ReadonlyMap<string, string>, path: string): string {
  const slash = path.indexOf('/');
  const first = slash < 0 ? path : path.slice(0, slash);
  const base = roots.get(first);
  if (base === undefined) return path;
  if (slash < 0) return base;
  const sep = separatorOf(base);
  const rest = path
    .slice(slash + 1)
    .split('/')
    .join(sep);
  return base.endsWith(sep) ? base + rest : `${base}${sep}${rest}`;
}

/**
 * The other way: the snapshot path of an on-disk path under one of `paths`, or undefined when it is under
 * none of them.
 */
export function snapshotPathOf(roots: ReadonlyMap<string, string>, onDisk: string): string | undefined {
  for (const [name, base] of roots) {
    const sep = separatorOf(base);
    const b = base.endsWith(sep) ? base.slice(0, -1) : base;
    if (onDisk === b || onDisk === base) return name;
    if (onDisk.startsWith(b + sep))
      return `${name}/${onDisk
        .slice(b.length + 1)
        .split(sep)
        .join('/')}`;
  }
  return undefined;
}
