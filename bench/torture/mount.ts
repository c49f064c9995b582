/**
 * Small tmpfs file systems for the full-disk faults (`mount -t tmpfs -o size=N`, then
 * `mount -o remount,size=M` to make space). Needs root (or CAP_SYS_ADMIN); `canMount` says why not.
 * Every mount is undone by `unmountAll` (also called from the exit handler).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const mounted = new Set<string>();

function sh(cmd: string, args: string[]): { ok: boolean; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  return { ok: r.status === 0, err: (r.stderr || r.error?.message || `exit ${r.status}`).trim() };
}

/** Rounds up to whole 4 KiB pages (tmpfs counts pages). */
const pages = (bytes: number): number => Math.max(4096, Math.ceil(bytes / 4096) * 4096);

/** Mounts a tmpfs of `bytes` on dir (created); throws with mount's message when it is not permitted. */
export function mountTmpfs(dir: string, bytes: number): void {
  fs.mkdirSync(dir, { recursive: true });
  const r = sh('mount', ['-t', 'tmpfs', '-o', `size=${pages(bytes)},mode=0755`, 'tmpfs', dir]);
  if (!r.ok) throw new Error(`mount -t tmpfs on ${dir} failed: ${r.err}`);
  mounted.add(dir);
}

/** Changes the size of a mounted tmpfs ("making space"). */
export function resizeTmpfs(dir: string, bytes: number): void {
  const r = sh('mount', ['-o', `remount,size=${pages(bytes)}`, dir]);
  if (!r.ok) throw new Error(`mount -o remount,size=${pages(bytes)} ${dir} failed: ${r.err}`);
}

export function unmount(dir: string): void {
  if (!mounted.has(dir)) return;
  let r = sh('umount', [dir]);
  if (!r.ok) r = sh('umount', ['-l', dir]);
  if (r.ok) mounted.delete(dir);
}

export function unmountAll(): void {
  for (const d of [...mounted]) unmount(d);
}

/** undefined when a tmpfs can be mounted here, else why not (the mount command's own words). */
export function cannotMount(): string | undefined {
  if (process.platform !== 'linux') return `tmpfs mounts need Linux (this is ${process.platform})`;
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-torture-probe-'));
  try {
    mountTmpfs(probe, 1 << 20);
    unmount(probe);
    return undefined;
  } catch (e) {
    return `mount -t tmpfs is not permitted here (${e instanceof Error ? e.message : String(e)})`;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}
