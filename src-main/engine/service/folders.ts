import { statSync } from 'node:fs';
import { posix, win32 } from 'node:path';
import { BulwarkError } from '../errors.ts';

/**
 * What the service needs to know about folders on this computer: whether a source's folder is there,
 * which file system (st_dev) it is on, and whether a path typed in a form can be a folder here at all. The
 * disk is reached through a DiskProbe so tests can put a target on "another disk".
 */

export type DiskEntry =
  | { kind: 'dir' | 'file' | 'other'; dev: number }
  | { kind: 'missing' }
  /** it may be there but cannot be looked at (permission, I/O error): `code` is the system's */
  | { kind: 'unknown'; code: string };

export interface DiskProbe {
  stat(path: string): DiskEntry;
}

/** The real disk (statSync follows links: a linked folder counts as the folder it links to). */
export const realDisk: DiskProbe = {
  stat(path) {
    try {
      const st = statSync(path);
      return { kind: st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other', dev: st.dev };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException | undefined)?.code ?? 'UNKNOWN';
      if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
      return { kind: 'unknown', code };
    }
  },
};

const SYSTEM_NAME: Partial<Record<NodeJS.Platform, string>> = {
  linux: 'Linux',
  darwin: 'macOS',
  win32: 'Windows',
  freebsd: 'FreeBSD',
};

const WINDOWS_DRIVE = /^[A-Za-z]:[\\/]/;
const WINDOWS_SHARE = /^\\\\[^\\]/;

/**
 * Why `p` cannot name a folder of this computer (written for another system, or not a full path), in plain
 * words; undefined when it can. Without this, `C:\Users\office\Documents` on Linux would be resolved
 * against the service's working folder.
 */
export function pathProblem(
  p: string,
  platform: NodeJS.Platform = process.platform,
): BulwarkError | undefined {
  const windows = platform === 'win32';
  if (!windows && WINDOWS_DRIVE.test(p))
    return new BulwarkError(
      'INVALID_ARGUMENT',
      `${p} is a Windows folder, but the Bulwark service runs on ${SYSTEM_NAME[platform] ?? platform}: choose a folder of this computer.`,
      { hint: 'Choose the folder with Browse, or type a path like /home/office/Documents.' },
    );
  if (!windows && WINDOWS_SHARE.test(p))
    return new BulwarkError(
      'INVALID_ARGUMENT',
      `${p} is a Windows network share: connect it to this computer first, then choose the connected folder.`,
    );
  if (!(windows ? win32.isAbsolute(p) : posix.isAbsolute(p)))
    return new BulwarkError(
      'INVALID_ARGUMENT',
      `${p} is not a full folder path: it must start with ${windows ? 'a drive letter like C:\\' : '/'}.`,
    );
  return undefined;
}

/** Throws, in plain words, unless `p` is a folder that is there now. */
export function checkFolder(p: string, disk: DiskProbe = realDisk, platform?: NodeJS.Platform): void {
  const problem = pathProblem(p, platform);
  if (problem) throw problem;
  const entry = disk.stat(p);
  switch (entry.kind) {
    case 'dir':
      return;
    case 'missing':
      throw new BulwarkError('NOT_FOUND', `There is no folder ${p} on this computer.`, {
        hint: 'Check the spelling, or choose the folder with Browse. A folder on a disk or share must be connected.',
      });
    case 'file':
      throw new BulwarkError('INVALID_ARGUMENT', `${p} is a file, not a folder: choose the folder it is in.`);
    case 'other':
      throw new BulwarkError('INVALID_ARGUMENT', `${p} is not a folder.`);
    case 'unknown':
      throw new BulwarkError(
        entry.code === 'EACCES' || entry.code === 'EPERM' ? 'PERMISSION' : 'IO',
        entry.code === 'EACCES' || entry.code === 'EPERM'
          ? `Bulwark is not allowed to open ${p}.`
          : `${p} cannot be opened right now.`,
        { hint: 'Give the account that runs Bulwark access to the folder, then try again.' },
      );
  }
}

/** The folders of `paths` that are not there (moved, renamed, their disk or share disconnected). */
export function missingFolders(paths: readonly string[], disk: DiskProbe = realDisk): string[] {
  return paths.filter((p) => disk.stat(p).kind === 'missing');
}

/** Is the folder target at `location` on the same file system as one of `paths`? */
export function sameDisk(location: string, paths: readonly string[], disk: DiskProbe = realDisk): boolean {
  const t = disk.stat(location);
  if (t.kind === 'missing' || t.kind === 'unknown') return false;
  return paths.some((p) => {
    const s = disk.stat(p);
    return (s.kind === 'dir' || s.kind === 'file' || s.kind === 'other') && s.dev === t.dev;
  });
}
