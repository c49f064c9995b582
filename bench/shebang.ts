import fs from 'node:fs';

/** What the CLI's shebang (`#!/usr/bin/env -S [NAME=value ...] node [FLAGS]`) sets, so a command runs as the bin does. */
export interface Shebang {
  /** variables set before node starts (glibc reads MALLOC_ARENA_MAX only then) */
  env: Record<string, string>;
  /** node's flags */
  flags: string[];
}

export function readShebang(main: string): Shebang {
  let first: string;
  try {
    first = fs.readFileSync(main, 'utf8').split('\n', 1)[0] ?? '';
  } catch {
    return { env: {}, flags: [] }; // no such file: the command's own failure says so
  }
  const m = /^#!\S*env -S((?: [A-Z_][A-Z0-9_]*=\S+)*) node((?: --?[\w-]+(?:=\S+)?)*)\s*$/.exec(first);
  if (!m) return { env: {}, flags: [] };
  const env: Record<string, string> = {};
  for (const kv of m[1]!.trim().split(/\s+/).filter(Boolean)) {
    const eq = kv.indexOf('=');
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return { env, flags: m[2]!.trim().split(/\s+/).filter(Boolean) };
}
