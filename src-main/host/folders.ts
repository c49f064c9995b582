import { existsSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { homedir } from 'node:os';
import { posix, win32, type PlatformPath } from 'node:path';

import type { ResponseOf } from '../contract/ipc.ts';
import { BulwarkError, fromSystemError } from '../engine/index.ts';
import { checkFolder, pathProblem } from '../engine/service/index.ts';

/**
 * `fs.folders`: the folder picker of the browser UI (`bulwark serve` has no native dialog). Lists the
 * sub-folders of one folder of the computer the service runs on, sorted by name as people sort (case and
 * accents aside, numbers by value). Hidden folders (".name"; on Windows also "$name" and "System Volume
 * Information") are omitted, not listed last: an office picks Documents, not .cache, and a hidden folder can
 * still be typed. At most 1 000 folders (`truncated` says there were more).
 */

export type FoldersAnswer = ResponseOf<'bulwark:fs.folders'>;

export const FOLDER_LIMIT = 1000;

export interface FolderEnv {
  platform: NodeJS.Platform;
  home: string;
  /** account name (the per-user mount folders /media/<user>, /run/media/<user>) */
  user: string;
  /** where removable disks and shares are mounted: /mnt, /media, /Volumes … */
  mountRoots: readonly string[];
}

export function defaultFolderEnv(): FolderEnv {
  const home = homedir();
  const user = process.env.USER ?? process.env.USERNAME ?? posix.basename(home);
  return {
    platform: process.platform,
    home,
    user,
    mountRoots:
      process.platform === 'darwin'
        ? ['/Volumes']
        : process.platform === 'win32'
          ? []
          : ['/mnt', '/media', `/media/${user}`, `/run/media/${user}`],
  };
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function hidden(name: string, platform: NodeJS.Platform): boolean {
  if (name.startsWith('.')) return true;
  return platform === 'win32' && (name.startsWith('$') || name === 'System Volume Information');
}

function isFolder(dir: string, e: Dirent, path: PlatformPath): boolean {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return statSync(path.join(dir, e.name)).isDirectory();
  } catch {
    return false; // a dangling link is not a folder one can pick
  }
}

/** The folders directly inside `dir`, sorted, without hidden ones. */
function subfolders(dir: string, env: FolderEnv): { name: string; path: string }[] {
  const path = env.platform === 'win32' ? win32 : posix;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'EACCES' || code === 'EPERM')
      throw new BulwarkError('PERMISSION', `Bulwark is not allowed to open ${dir}.`, { cause: e });
    throw fromSystemError(e, dir);
  }
  return entries
    .filter((e) => !hidden(e.name, env.platform) && isFolder(dir, e, path))
    .map((e) => e.name)
    .sort(collator.compare)
    .map((name) => ({ name, path: path.join(dir, name) }));
}

/** The usual places: home, Documents, Desktop, the whole computer, mounted disks and shares, drives. */
export function places(env: FolderEnv): { label: string; path: string }[] {
  const path = env.platform === 'win32' ? win32 : posix;
  const out: { label: string; path: string }[] = [];
  const add = (label: string, p: string): void => {
    if (!out.some((x) => x.path === p) && existsSync(p)) out.push({ label, path: p });
  };
  add('Home', env.home);
  add('Documents', path.join(env.home, 'Documents'));
  add('Desktop', path.join(env.home, 'Desktop'));
  if (env.platform === 'win32') {
    for (let c = 'A'.charCodeAt(0); c <= 'Z'.charCodeAt(0); c++) {
      const letter = String.fromCharCode(c);
      add(`Drive ${letter}:`, `${letter}:\\`);
    }
    return out;
  }
  add('This computer', '/');
  for (const root of env.mountRoots) {
    let found: { name: string; path: string }[];
    try {
      found = subfolders(root, env);
    } catch {
      continue; // no such mount folder here, or not ours to look into: nothing to offer
    }
    for (const f of found) {
      // /media/<user> is where the disks are (listed as a root of its own), not a disk itself
      if (env.mountRoots.includes(f.path)) continue;
      add(`${f.name} (${f.path})`, f.path);
    }
  }
  return out;
}

/** The answer of `fs.folders`: the folders inside `dir` (none without it) and the usual places. */
export function listFolders(dir: string | undefined, env: FolderEnv = defaultFolderEnv()): FoldersAnswer {
  const pl = places(env);
  if (dir === undefined) return { folders: [], places: pl, truncated: false };
  const problem = pathProblem(dir, env.platform);
  if (problem) throw problem;
  const path = env.platform === 'win32' ? win32 : posix;
  const resolved = path.resolve(dir);
  checkFolder(resolved, undefined, env.platform);
  const all = subfolders(resolved, env);
  const parent = path.dirname(resolved);
  return {
    path: resolved,
    ...(parent !== resolved ? { parent } : {}),
    folders: all.slice(0, FOLDER_LIMIT),
    places: pl,
    truncated: all.length > FOLDER_LIMIT,
  };
}
