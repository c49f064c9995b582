import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, symlinkSync, unlinkSync, utimesSync, lutimesSync } from 'node:fs';
import { join, relative, resolve, isAbsolute } from 'node:path';
import { recordAudit } from '../audit/audit.ts';
import { BulwarkError, fromSystemError, isBulwarkError, throwIfAborted } from '../errors.ts';
import type { TreeNode } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import { writeFiles } from './restore-files.ts';
import type { RestoreOptions, RestoreProgress, RestoreResult } from './types.ts';
import { findNode, isSafeName } from './walk.ts';

const nsToSeconds = (ns: string): number => Number(BigInt(ns) / 1000n) / 1e6;

/**
 * Restores a snapshot (or part of it) into `target`. Whatever the snapshot's trees say, nothing is written
 * outside `target`: every name is checked to be one plain path segment, every final path is checked to lie
 * inside the target, files are opened with O_NOFOLLOW, folders that exist as anything but a real folder are
 * refused, and symlinks are created last (so no restored write can pass through one).
 */
export async function restoreSnapshot(repo: Repository, opts: RestoreOptions): Promise<RestoreResult> {
  const actor = opts.actor !== undefined ? { actor: opts.actor } : {};
  let result: RestoreResult;
  try {
    result = await restoreOnce(repo, opts);
  } catch (e) {
    await recordAudit(repo, {
      ...actor,
      action: 'restore',
      subject: null,
      details: {
        snapshot: opts.snapshot,
        path: opts.subPath ?? '',
        target: resolve(opts.target),
        outcome: isBulwarkError(e, 'CANCELED') ? 'canceled' : 'failed',
        error: e instanceof Error ? e.message : String(e),
      },
    }).catch(() => undefined);
    throw e;
  }
  await recordAudit(repo, {
    ...actor,
    action: 'restore',
    subject: result.snapshotId,
    details: {
      path: opts.subPath ?? '',
      target: resolve(opts.target),
      files: result.files,
      bytes: result.bytes,
      skipped: result.errors.length,
    },
  });
  return result;
}

async function restoreOnce(repo: Repository, opts: RestoreOptions): Promise<RestoreResult> {
  const snap = repo.resolveSnapshot(opts.snapshot);
  const target = resolve(opts.target);
  const result: RestoreResult = { snapshotId: snap.id, files: 0, dirs: 0, bytes: 0, errors: [] };
  const progress: RestoreProgress = { filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 };
  const start = await findNode(repo, snap.tree, opts.subPath ?? '');
  try {
    mkdirSync(target, { recursive: true });
  } catch (e) {
    throw fromSystemError(e, target);
  }
  if (!lstatSync(target).isDirectory())
    throw new BulwarkError('INVALID_ARGUMENT', `${target} is not a folder`);

  const inside = (p: string): boolean => {
    const r = relative(target, p);
    return r === '' || (!r.startsWith('..') && !isAbsolute(r));
  };
  const fail = (path: string, message: string): void => {
    result.errors.push({ path, message });
  };

  // Pass 1: plan (validate names, create folders); pass 2: files in parallel; pass 3: symlinks, folder times.
  const files: { path: string; node: TreeNode; fresh: boolean }[] = [];
  const links: { path: string; node: TreeNode }[] = [];
  const dirTimes: { path: string; node: TreeNode }[] = [];
  const specials: { path: string; node: TreeNode }[] = [];

  // `fresh`: this run created the folder, so nothing can already sit at a name inside it (no lstat needed).
  const plan = async (treeId: string, dir: string, shown: string, fresh: boolean): Promise<void> => {
    throwIfAborted(opts.signal);
    const tree = await repo.loadTree(treeId, opts.signal);
    const seen = new Set<string>();
    for (const node of tree.nodes) {
      const rel = shown ? `${shown}/${node.name}` : node.name;
      if (!isSafeName(node.name) || seen.has(node.name)) {
        fail(rel, 'unsafe or duplicate name in the snapshot: skipped');
        continue;
      }
      seen.add(node.name);
      const p = join(dir, node.name);
      if (!inside(p)) {
        fail(rel, 'would be written outside the target: skipped');
        continue;
      }
      await planNode(node, p, rel, fresh);
    }
  };

  const planNode = async (node: TreeNode, p: string, rel: string, fresh: boolean): Promise<void> => {
    switch (node.type) {
      case 'dir': {
        let created: boolean;
        try {
          created = ensureRealDir(p);
        } catch (e) {
          fail(rel, (e as Error).message);
          return;
        }
        result.dirs++;
        if (node.subtree) await plan(node.subtree, p, rel, created);
        dirTimes.push({ path: p, node });
        return;
      }
      case 'file':
        files.push({ path: p, node, fresh });
        progress.filesTotal++;
        progress.bytesTotal += node.size ?? 0;
        return;
      case 'symlink':
        links.push({ path: p, node });
        return;
      default:
        specials.push({ path: p, node });
    }
  };

  if (start.type === 'dir') {
    if (start.subtree) await plan(start.subtree, target, '', false);
  } else {
    const name = 'name' in start ? start.name : '';
    if (!isSafeName(name)) throw new BulwarkError('CORRUPT', 'the snapshot holds an unsafe file name');
    await planNode(start as TreeNode, join(target, name), name, false);
  }

  await writeFiles(repo, files, {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.concurrency ? { threads: opts.concurrency } : {}),
    onFileDone: (i, error) => {
      const f = files[i]!;
      if (error !== undefined) fail(relative(target, f.path), error);
      else {
        result.files++;
        result.bytes += f.node.size ?? 0;
      }
      progress.filesDone++;
      progress.bytesDone += f.node.size ?? 0;
      progress.currentPath = f.path;
      opts.onProgress?.({ ...progress });
    },
  });
  throwIfAborted(opts.signal);

  for (const s of specials) {
    if (s.node.type === 'fifo') {
      const r = spawnSync('mkfifo', ['-m', (s.node.mode & 0o777).toString(8), s.path]);
      if (r.status !== 0) fail(relative(target, s.path), 'could not recreate the FIFO');
      else {
        const t = nsToSeconds(s.node.mtimeNs);
        utimesSync(s.path, t, t);
      }
    } else {
      fail(relative(target, s.path), `${s.node.type} not recreated (recorded in the snapshot only)`);
    }
  }
  for (const l of links) {
    try {
      removeIfPresent(l.path);
      symlinkSync(l.node.target ?? '', l.path);
      const t = nsToSeconds(l.node.mtimeNs);
      lutimesSync(l.path, t, t);
    } catch (e) {
      fail(relative(target, l.path), (e as Error).message);
    }
  }
  // Folder modes and times last (children change a folder's mtime), deepest first.
  for (const d of dirTimes.reverse()) {
    try {
      chmodSync(d.path, d.node.mode & 0o7777);
      const t = nsToSeconds(d.node.mtimeNs);
      utimesSync(d.path, t, t);
    } catch (e) {
      fail(relative(target, d.path), (e as Error).message);
    }
  }
  return result;
}

/** Makes sure `p` is a real folder; true when this call created it. */
function ensureRealDir(p: string): boolean {
  try {
    const st = lstatSync(p);
    if (st.isDirectory()) return false;
    throw new BulwarkError('ALREADY_EXISTS', `${p} exists and is not a folder (not replaced)`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(p, { mode: 0o700 });
  return true;
}

function removeIfPresent(p: string): void {
  try {
    const st = lstatSync(p);
    if (!st.isDirectory()) unlinkSync(p);
  } catch {
    /* absent */
  }
}
