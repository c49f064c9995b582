import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  futimesSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  realpathSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, parse, sep } from 'node:path';
import { recordAudit } from '../audit/audit.ts';
import { systemClock } from '../clock.ts';
import { BulwarkError, fromSystemError, isBulwarkError, throwIfAborted } from '../errors.ts';
import type { TreeNode } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import { childPath, fsErrorText, fsPath, hasEscapedBytes } from '../util/fs-names.ts';
import { writeFiles, type FilesToWrite } from './restore-files.ts';
import { RestoreEta } from './restore-eta.ts';
import {
  decideTaking,
  keepBothLabel,
  keepBothName,
  sameState,
  stateAt,
  type NameState,
  type Placement,
} from './restore-place.ts';
import { planRestore, type PlanAction, type PlanEntry, type RestorePlan } from './restore-plan.ts';
import { NO_SPACE_CODES, noSpaceMessage } from './restore-protocol.ts';
import type { RestoreOptions, RestoreProgress, RestoreResult, RestoreRunOptions } from './types.ts';
import { utimeArg } from './times.ts';
import { isPlainName } from './walk.ts';

/** Set-user-id and set-group-id: never restored on files whose owner is not restored (see runPlan). */
const SET_ID = 0o6000;
// Not defined on Windows (no symlink races to guard against there the same way): 0 leaves the flag out.
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_DIRECTORY = constants.O_DIRECTORY ?? 0;

/** What restoreSnapshot returns (the name is kept for callers of this module). */
export type RestoreReport = RestoreResult;

/**
 * The files a run writes, by index, in one array of numbers instead of an object each (80 000 small files:
 * ~6 MB): per file its plan entry and whether its folder was created by this run. A file's destination is
 * joined onto its folder's path when asked (a plan of 80 000 files held ~14 MB of joined paths), its node
 * is its entry's, and the rare rest lives in maps: another name of an earlier file (hard links), a node
 * with setuid/setgid cleared, a name taken by another rule than `createPlace`.
 */
class PlannedFiles implements FilesToWrite {
  /** per file: its entry's index · 2, + 1 when its folder was created by this run */
  private readonly packed: number[] = [];
  private readonly links = new Map<number, number>();
  private readonly nodes = new Map<number, TreeNode>();
  private readonly places = new Map<number, Placement>();
  private readonly plan: RestorePlan;
  /** per folder entry: its path on disk; the roots' real paths */
  private readonly dirPath: readonly string[];
  private readonly roots: readonly string[];
  private readonly createPlace: Placement;

  constructor(
    plan: RestorePlan,
    dirPath: readonly string[],
    roots: readonly string[],
    createPlace: Placement,
  ) {
    this.plan = plan;
    this.dirPath = dirPath;
    this.roots = roots;
    this.createPlace = createPlace;
  }

  get length(): number {
    return this.packed.length;
  }

  add(entry: number, fresh: boolean, node: TreeNode, place: Placement): void {
    const i = this.packed.length;
    this.packed.push(entry * 2 + (fresh ? 1 : 0));
    if (node !== this.plan.entries[entry]!.node) this.nodes.set(i, node);
    if (place !== this.createPlace) this.places.set(i, place);
  }

  private entry(i: number): PlanEntry {
    return this.plan.entries[this.packed[i]! >> 1]!;
  }

  path(i: number): string {
    const e = this.entry(i);
    return childPath(e.parent >= 0 ? this.dirPath[e.parent]! : this.roots[e.root]!, e.name);
  }

  /** its path in the snapshot (what reports show) */
  shown(i: number): string {
    return this.entry(i).path;
  }

  node(i: number): TreeNode {
    return this.nodes.get(i) ?? this.entry(i).node;
  }

  fresh(i: number): boolean {
    return (this.packed[i]! & 1) === 1;
  }

  place(i: number): Placement {
    return this.places.get(i) ?? this.createPlace;
  }

  linkTo(i: number): number | undefined {
    return this.links.get(i);
  }

  setLinkTo(i: number, first: number): void {
    this.links.set(i, first);
  }
}

/**
 * Restores a snapshot (or one file or folder of it) into `target`: a plan (restore-plan.ts, the folder's
 * contents straight into `target`) carried out at once with `opts.onConflict` (default `overwrite`, what
 * this function always did; identical files are now left alone). See runRestorePlan.
 */
export async function restoreSnapshot(repo: Repository, opts: RestoreOptions): Promise<RestoreReport> {
  const plan = await planRestore(repo, {
    snapshot: opts.snapshot,
    paths: [opts.subPath ?? ''],
    destination: { kind: 'folder', path: opts.target },
    layout: 'contents',
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  return runRestorePlan(repo, plan, { ...opts, onConflict: opts.onConflict ?? 'overwrite' });
}

/**
 * Carries out a restore plan. Whatever the snapshot's trees say, and whatever another user does to the
 * destination meanwhile, nothing is written outside the plan's folders:
 * - every name was checked by the plan to be one plain path segment, and every final path is checked to
 *   lie inside its folder;
 * - each destination folder, every folder above it and every existing folder inside it that the restore
 *   writes into must be a folder no other user can change (checkTarget / othersCanChange: why that, rather
 *   than descriptor-relative calls, is explained there);
 * - files are written to a new temporary name (O_CREAT|O_EXCL|O_NOFOLLOW), get their mode and times through
 *   that descriptor and only when complete take their name (restore-worker.ts); in a folder this restore
 *   made (0700) a free name is written directly and removed on failure: a full disk or a cancel leaves
 *   nothing half-written; folders get theirs through a descriptor opened with O_DIRECTORY|O_NOFOLLOW;
 *   FIFOs and symlinks through lutimes; folders that exist as anything but a real folder are refused;
 *   symlinks are created last (so no restored write can pass through one);
 * - setuid/setgid bits are cleared on files: their owners are not restored;
 * - what is at each destination is looked at again now: a file that appeared or changed since the plan is
 *   a conflict under `onConflict`, never overwritten silently; identical files are skipped; the writers
 *   look once more just before a file takes its name (restore-place.ts).
 */
export async function runRestorePlan(
  repo: Repository,
  plan: RestorePlan,
  opts: RestoreRunOptions = {},
): Promise<RestoreReport> {
  const actor = opts.actor !== undefined ? { actor: opts.actor } : {};
  const where = { path: plan.paths.join(', '), target: plan.destination };
  let result: RestoreReport;
  try {
    result = await runPlan(repo, plan, opts);
  } catch (e) {
    await recordAudit(repo, {
      ...actor,
      action: 'restore',
      subject: null,
      details: {
        snapshot: plan.snapshotId,
        ...where,
        outcome: isBulwarkError(e, 'CANCELED') ? 'canceled' : 'failed',
        error: e instanceof Error ? e.message : String(e),
      },
    }).catch((ae: unknown) => {
      // the restore's own failure is what the caller must see; the lost audit entry is said, not hidden
      repo.warnings.push(
        `the failed restore could not be recorded in the audit log: ${(ae as Error).message}`,
      );
    });
    throw e;
  }
  await recordAudit(repo, {
    ...actor,
    action: 'restore',
    subject: result.snapshotId,
    details: {
      ...where,
      files: result.files,
      links: result.links,
      bytes: result.bytes,
      identical: result.identical,
      skipped: result.skipped,
      keptBoth: result.keptBoth,
      failed: result.errors.length,
      warnings: result.warnings.length,
      ...(opts.onConflict ? { onConflict: opts.onConflict } : {}),
    },
  });
  return result;
}

async function runPlan(repo: Repository, plan: RestorePlan, opts: RestoreRunOptions): Promise<RestoreReport> {
  const policy = opts.onConflict;
  if (policy === undefined && plan.totals.conflicts > 0) {
    throw new BulwarkError(
      'ALREADY_EXISTS',
      `${plan.totals.conflicts} ${plan.totals.conflicts === 1 ? 'file exists' : 'files exist'} at the destination with other content: nothing was restored`,
      { hint: 'Say what to do with them: --on-conflict overwrite, keep-both, skip or if-newer.' },
    );
  }
  const clock = opts.clock ?? systemClock;
  const label = keepBothLabel(clock.now());
  const result: RestoreReport = {
    snapshotId: plan.snapshotId,
    destination: plan.destination,
    files: 0,
    dirs: 0,
    bytes: 0,
    links: 0,
    identical: 0,
    skipped: 0,
    keptBoth: 0,
    errors: [...plan.errors],
    warnings: [...plan.warnings],
  };
  const progress: RestoreProgress = { filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 };
  // Every path below is built on the real path of its folder, checked folder by folder (may throw:
  // nothing has been written then).
  const roots = plan.roots.map((r) => checkTarget(r.folder));

  const fail = (path: string, message: string): void => {
    result.errors.push({ path, message });
  };
  const warn = (path: string, message: string): void => {
    result.warnings.push({ path, message });
  };
  // What did not fit on the disk: files (and their size), and folders, links and FIFOs.
  const lacking = { files: 0, bytes: 0, others: 0 };
  /** Reports a failed file-system step; a full disk is also counted for the summary. */
  const failFs = (path: string, e: unknown): void => {
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    if (code !== undefined && NO_SPACE_CODES.has(code)) {
      lacking.others++;
      fail(path, noSpaceMessage(code));
    } else fail(path, e instanceof BulwarkError ? e.message : fsErrorText(e));
  };

  // Pass 1: folders, and what to do with each file; pass 2: files in parallel; pass 3: specials, symlinks,
  // folder times.
  const links: { path: string; shown: string; node: TreeNode; place: Placement }[] = [];
  const dirTimes: { path: string; shown: string; node: TreeNode }[] = [];
  const specials: { path: string; shown: string; node: TreeNode; root: string }[] = [];
  // per entry: a folder this run created (nothing can be at a name inside it); a folder that failed
  // (what it holds is not restored: counted in its error)
  const created: boolean[] = [];
  const failedDir = new Map<number, { error: number; files: number }>();
  const blockedBy: number[] = [];
  // per folder entry: its path (what it holds is joined onto it)
  const dirPath: string[] = [];
  // every name that is free takes the same rule: one object for all of them (a tree of many small files)
  const createPlace: Readonly<Placement> = { expect: null, beside: false, onChange: policy ?? 'fail', label };
  const files = new PlannedFiles(plan, dirPath, roots, createPlace);

  // indexed: an [index, entry] pair per entry was ~40 MB of garbage over 80 000 files
  for (let i = 0; i < plan.entries.length; i++) {
    const e = plan.entries[i]!;
    if (i % 1000 === 999) throwIfAborted(opts.signal);
    created[i] = false;
    const above = e.parent >= 0 ? (blockedBy[e.parent] ?? (failedDir.has(e.parent) ? e.parent : -1)) : -1;
    if (above >= 0) {
      blockedBy[i] = above;
      if (e.kind === 'file' || e.kind === 'symlink') failedDir.get(above)!.files++;
      continue;
    }
    const root = roots[e.root]!;
    const folder = e.parent >= 0 ? dirPath[e.parent]! : root;
    // A plain name (never "..", never a separator: "..config" is a name) in a folder inside the root stays
    // inside it; the plan gives only such names, and a plan from elsewhere is held to it here.
    if (!isPlainName(e.name)) {
      fail(e.path, 'would be written outside the destination folder: skipped');
      // what it holds is not restored either (counted in its error, as for a folder that failed)
      if (e.kind === 'dir') failedDir.set(i, { error: result.errors.length - 1, files: 0 });
      continue;
    }
    const p = childPath(folder, e.name);
    if (e.kind === 'dir') dirPath[i] = p;
    const fresh = e.parent >= 0 && created[e.parent] === true;
    switch (e.kind) {
      case 'dir': {
        try {
          created[i] = ensureRealDir(p, fresh);
        } catch (err) {
          failFs(e.path, err);
          failedDir.set(i, { error: result.errors.length - 1, files: 0 });
          continue;
        }
        result.dirs++;
        dirTimes.push({ path: p, shown: e.path, node: e.node });
        continue;
      }
      case 'special':
        specials.push({ path: p, shown: e.path, node: e.node, root });
        continue;
      case 'file':
      case 'symlink': {
        if (e.action === undefined) continue; // could not be looked at when planned: reported there
        let now: NameState | null;
        try {
          now = fresh ? null : stateAt(p);
        } catch (err) {
          failFs(e.path, err);
          continue;
        }
        // Changed since the plan: something appeared (a conflict), or what was there is gone (create).
        let action: PlanAction = e.action;
        const changed = !sameState(now, e.existing ?? null);
        if (changed) action = now === null ? 'create' : 'conflict';
        let place: Placement | undefined;
        if (action === 'identical') {
          result.identical++;
          continue;
        }
        if (action === 'create') place = createPlace;
        else if (policy === undefined) {
          fail(
            e.path,
            'something was created or changed at this name after the restore was planned: left as it is, not restored',
          );
          continue;
        } else if (policy === 'skip') {
          result.skipped++;
          continue;
        } else if (policy === 'if-newer' && !(BigInt(e.node.mtimeNs) > BigInt(now!.mtimeNs))) {
          result.skipped++;
          continue;
        } else place = { expect: now, beside: policy === 'keep-both', onChange: policy, label };
        if (e.kind === 'symlink') {
          links.push({ path: p, shown: e.path, node: e.node, place });
          continue;
        }
        let node = e.node;
        // The restore does not give files their recorded owner: a setuid/setgid bit would make the file
        // run as whoever restores it (root: `-rwsr-xr-x root root` from a file of nobody's). Cleared here,
        // on files only (a folder's setgid or sticky bit runs nothing). Should restoring owners become an
        // option, the bits may stay where it asked for it and the chown succeeded.
        if ((node.mode & SET_ID) !== 0) {
          warn(
            e.path,
            `setuid/setgid bits cleared (mode ${octal(node.mode)} restored as ${octal(node.mode & ~SET_ID)}): the owner is not restored`,
          );
          node = { ...node, mode: node.mode & ~SET_ID };
        }
        files.add(i, fresh, node, place);
        progress.filesTotal++;
        progress.bytesTotal += node.size ?? 0;
      }
    }
  }
  for (const f of failedDir.values()) {
    const err = result.errors[f.error];
    if (err && f.files > 0)
      err.message += ` (${f.files} ${f.files === 1 ? 'file' : 'files'} in it not restored)`;
  }

  // Hard links: the names of one file (same device and inode: recorded for files with several names)
  // restored together become one file with those names again. The same size, mode, time and content are
  // required too, so an inode number reused during the backup (a file deleted, another created) cannot
  // make two files one. Only names that are written are grouped (an identical name is left as it is).
  const firstName = new Map<string, number>();
  for (let i = 0; i < files.length; i++) {
    const n = files.node(i);
    if ((n.nlink ?? 0) < 2 || n.dev === undefined || n.inode === undefined) continue;
    const key = JSON.stringify([n.dev, n.inode, n.size, n.mode, n.mtimeNs, n.content ?? []]);
    const first = firstName.get(key);
    if (first === undefined) firstName.set(key, i);
    else files.setLinkTo(i, first);
  }
  const counted = new Set<number>(); // files whose size is in lacking.bytes (one per set of names)

  const eta = new RestoreEta();
  const partial = new Map<number, number>(); // bytes of files still being written, counted in bytesDone
  const report = (): void => {
    const est = eta.sample(
      clock.now().getTime(),
      { bytes: progress.bytesDone, files: progress.filesDone },
      { bytes: progress.bytesTotal, files: progress.filesTotal },
    );
    progress.rate = est.rate;
    if (est.etaSeconds !== undefined) progress.etaSeconds = est.etaSeconds;
    else delete progress.etaSeconds;
    opts.onProgress?.({ ...progress });
  };
  report();
  let lastDone = -1; // the file last written, shown as the current path when the batch is reported

  await writeFiles(repo, files, {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.concurrency ? { threads: opts.concurrency } : {}),
    ...(opts.testNoSpaceAfter !== undefined ? { testNoSpaceAfter: opts.testNoSpaceAfter } : {}),
    onFileProgress: (i, bytes) => {
      const before = partial.get(i) ?? 0;
      const size = files.node(i).size ?? 0;
      const now = Math.min(bytes, size);
      partial.set(i, now);
      progress.bytesDone += now - before;
      progress.currentPath = files.path(i);
      report();
    },
    onFileDone: (i, o) => {
      const size = files.node(i).size ?? 0;
      if (o.error !== undefined) {
        // a cancel is said once, by the CANCELED error below, not once per file
        if (o.code !== 'CANCELED') fail(files.shown(i), o.error);
        if (o.code !== undefined && NO_SPACE_CODES.has(o.code)) {
          lacking.files++;
          const file = files.linkTo(i) ?? i;
          if (!counted.has(file)) {
            counted.add(file);
            lacking.bytes += size;
          }
        }
      } else if (o.skipped) {
        result.skipped++;
      } else {
        result.files++;
        result.bytes += size;
        if (o.keptAt !== undefined) {
          result.keptBoth++;
          warn(files.shown(i), `another file is at its name: restored beside it as "${basename(o.keptAt)}"`);
        }
        if (o.warning !== undefined) warn(files.shown(i), o.warning);
      }
      progress.filesDone++;
      progress.bytesDone += size - (partial.get(i) ?? 0);
      partial.delete(i);
      lastDone = i;
    },
    // once per writer's answer (up to 32 small files), not per file: a progress report (with its ETA
    // sample and copy) per file was ~25 MB of garbage in a restore of 80 000 small files
    onFilesDone: () => {
      if (lastDone >= 0) progress.currentPath = files.path(lastDone);
      report();
    },
  });
  throwIfAborted(opts.signal);

  for (const s of specials) {
    if (s.node.type === 'fifo') {
      try {
        makeFifo(s.path, s.node.mode & 0o777, s.root);
      } catch (e) {
        failFs(s.shown, e);
        continue;
      }
      const t = utimeArg(s.node.mtimeNs);
      try {
        // never follows: a FIFO is no link, and a link put there is not followed
        lutimesSync(fsPath(s.path), t, t);
      } catch (e) {
        fail(s.shown, `FIFO recreated, its time not set: ${fsErrorText(e)}`);
      }
    } else {
      fail(s.shown, `${s.node.type} not recreated (recorded in the snapshot only)`);
    }
  }
  for (const l of links) {
    try {
      const taken = placeSymlink(l.node, l.path, l.place);
      if (taken === 'skipped') {
        result.skipped++;
        continue;
      }
      result.links++;
      if (taken !== l.path) {
        result.keptBoth++;
        warn(l.shown, `another file is at its name: restored beside it as "${basename(taken)}"`);
      }
      const t = utimeArg(l.node.mtimeNs);
      lutimesSync(fsPath(taken), t, t);
    } catch (e) {
      failFs(l.shown, e);
    }
  }
  // Folder modes and times last (children change a folder's mtime), deepest first: so while a folder gets a
  // mode that may let others in (0777), every folder above it still has the mode it had during the restore.
  for (const d of dirTimes.reverse()) {
    try {
      setDirMeta(d.path, d.node.mode & 0o7777, utimeArg(d.node.mtimeNs));
    } catch (e) {
      failFs(d.shown, e);
    }
  }
  if (lacking.files + lacking.others > 0) result.noSpace = noSpaceSummary(lacking, plan.destination);
  return result;
}

/**
 * Creates a symlink at `path` as `place` says (restore-place.ts): symlink() itself never replaces a name,
 * so a free name is taken atomically; replacing removes what was there first (never follows it; a folder
 * is left for symlink() to trip on). Returns where it was created, or 'skipped'.
 */
function placeSymlink(node: TreeNode, path: string, place: Placement): string | 'skipped' {
  const target = fsPath(node.target ?? '');
  const create = (at: string): boolean => {
    try {
      symlinkSync(target, fsPath(at));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  };
  let taking = decideTaking(path, place, node.mtimeNs);
  for (let attempt = 0; attempt < 4; attempt++) {
    switch (taking.how) {
      case 'skip':
        return 'skipped';
      case 'replace':
        removeIfPresent(path);
        symlinkSync(target, fsPath(path));
        return path;
      case 'beside':
        for (let n = 1; n <= 1000; n++) {
          const at = join(dirname(path), keepBothName(basename(path), place.label, n));
          if (create(at)) return at;
        }
        throw new BulwarkError('ALREADY_EXISTS', 'no free name was found beside the existing file');
      case 'create':
        if (create(path)) return path;
        taking = decideTaking(path, place, node.mtimeNs); // taken meanwhile: decide on what is there now
    }
  }
  throw new BulwarkError(
    'ALREADY_EXISTS',
    'the name kept changing while the link was restored: not restored',
  );
}

/** The words for what a full disk kept out of the restore (RestoreResult.noSpace). */
function noSpaceSummary(
  lacking: { files: number; bytes: number; others: number },
  destination: string,
): NonNullable<RestoreResult['noSpace']> {
  const size = sizeText(lacking.bytes);
  const parts: string[] = [];
  if (lacking.files > 0) parts.push(`${lacking.files} ${lacking.files === 1 ? 'file' : 'files'} (${size})`);
  if (lacking.others > 0)
    parts.push(`${lacking.others} ${lacking.others === 1 ? 'folder or link' : 'folders or links'}`);
  const were = lacking.files + lacking.others === 1 ? 'was' : 'were';
  const free = lacking.bytes > 0 ? `free at least ${size}` : 'free some space';
  return {
    files: lacking.files,
    bytes: lacking.bytes,
    message: `the disk is full: ${parts.join(' and ')} ${were} not restored; ${free} on the disk holding ${destination} and restore again`,
  };
}

/** 3_400_000_000 -> "3.4 GB" (decimal units, as disk sizes are sold and `df -H` shows them). */
export function sizeText(n: number): string {
  if (n < 1000) return `${n} ${n === 1 ? 'byte' : 'bytes'}`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n / 1000;
  let u = 0;
  while (v >= 999.95 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

/**
 * Recreates a FIFO (Node has no mkfifo: the mkfifo program does it). Its arguments are text, so a path
 * holding bytes that are not UTF-8 gets the FIFO under a plain temporary name in the target first, then
 * its real name by a hard link (never replaces what is there, like mkfifo itself).
 */
function makeFifo(path: string, mode: number, target: string): void {
  const mkfifo = (p: string): void => {
    const r = spawnSync('mkfifo', ['-m', mode.toString(8), p]);
    if (r.status !== 0)
      throw new BulwarkError(
        'IO',
        `could not recreate the FIFO${r.error ? `: ${r.error.message}` : r.stderr.length > 0 ? `: ${r.stderr.toString().trim()}` : ''}`,
      );
  };
  if (!hasEscapedBytes(path)) return mkfifo(path);
  const tmp = join(target, `.bulwark-fifo-${randomBytes(6).toString('hex')}`);
  if (hasEscapedBytes(tmp))
    throw new BulwarkError('UNSUPPORTED', 'FIFO not recreated: the target folder is not named in UTF-8');
  mkfifo(tmp);
  try {
    linkSync(tmp, fsPath(path));
  } finally {
    unlinkSync(tmp);
  }
}

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');

const UNSAFE_HINT =
  'Restore into a folder that only you (or root) can change, e.g. a new folder in your home folder, then ' +
  'move the files where they belong.';

/**
 * Why some other user could change the folder (or symlink) `st` describes, or undefined when only the
 * running user and root can. Node has no openat()/mkdirat()/fchmodat(): every restore write goes through a
 * path, and O_NOFOLLOW guards only its last component. A path is therefore only as safe as each folder
 * along it: if another user can rename or replace an entry of one of them (swap a checked folder for a
 * symlink), a later write, chmod or utimes lands wherever they like. Hence this test, applied to the target,
 * every folder above it and every existing folder inside it the restore writes into; a folder the restore
 * creates is made with mode 0700 and keeps it until the very end. Refused: a folder owned by someone other
 * than us or root (the owner can always chmod it), and one writable by its group or by everyone, unless
 * the sticky bit is set (others may then add entries but not rename or remove ours, and what sits at a
 * name the restore uses is checked: lstat for folders, O_EXCL|O_NOFOLLOW for files) or the group is the
 * running user's own private group (gid = uid, the user-private-group convention behind a umask of 002).
 * On Windows (no uid) this returns undefined: ACLs are not checked.
 */
function othersCanChange(st: Stats): string | undefined {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === undefined || gid === undefined) return undefined;
  if (st.uid !== uid && st.uid !== 0) return `it belongs to another user (uid ${st.uid})`;
  // A symlink cannot be changed, only replaced in its folder; its owner matters in a sticky folder.
  if (st.isSymbolicLink() || (st.mode & 0o1000) !== 0) return undefined;
  if ((st.mode & 0o002) !== 0) return `another user can write into it (mode ${octal(st.mode)})`;
  if ((st.mode & 0o020) !== 0 && !(st.gid === gid && gid === uid))
    return `another user can write into it (mode ${octal(st.mode)}, group ${st.gid})`;
  return undefined;
}

/**
 * Checks the target and every folder above it with lstat (once per restore), creating the missing ones
 * (0755), and returns the target's real path, whose folders are then checked too: everything written
 * later is built on it, so no symlink lies on the way any more. A symlink on the way is accepted when its
 * owner is us or root (macOS's /tmp → /private/tmp); the target itself must be a real folder.
 */
function checkTarget(target: string): string {
  const refuse = (p: string, why: string): never => {
    throw new BulwarkError('PERMISSION', `cannot restore into ${target}: ${p}: ${why}`, {
      hint: UNSAFE_HINT,
    });
  };
  const walk = (path: string, create: boolean): void => {
    const { root } = parse(path);
    const parts = path
      .slice(root.length)
      .split(sep)
      .filter((s) => s !== '');
    let cur = root;
    let missing = false;
    for (let i = 0; i <= parts.length; i++) {
      if (i > 0) cur = join(cur, parts[i - 1]!);
      let st: Stats | undefined;
      if (!missing) {
        try {
          st = lstatSync(cur);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !create) throw fromSystemError(e, cur);
          missing = true;
        }
      }
      if (st === undefined) {
        // Missing (as is all below it): made here, inside a folder already found safe.
        try {
          mkdirSync(cur, { mode: 0o755 });
        } catch (e) {
          throw fromSystemError(e, cur);
        }
        continue;
      }
      if (!st.isDirectory() && !(st.isSymbolicLink() && i < parts.length))
        throw new BulwarkError('INVALID_ARGUMENT', `${i < parts.length ? cur : target} is not a folder`);
      const why = othersCanChange(st);
      if (why !== undefined) refuse(cur, `another user can change this folder: ${why}`);
    }
  };
  if (process.getuid === undefined) {
    // Windows: no owners to compare (see othersCanChange); create it and make sure it is a folder.
    try {
      mkdirSync(target, { recursive: true });
    } catch (e) {
      throw fromSystemError(e, target);
    }
    if (!lstatSync(target).isDirectory())
      throw new BulwarkError('INVALID_ARGUMENT', `${target} is not a folder`);
    return target;
  }
  walk(target, true);
  let real: string;
  try {
    real = realpathSync(target);
  } catch (e) {
    throw fromSystemError(e, target);
  }
  if (real !== target) walk(real, false);
  return real;
}

/**
 * Makes sure `p` is a real folder the restore may write into; true when this call created it. In a folder
 * this restore created (`parentFresh`) nothing can be at the name yet: mkdir without a look first.
 */
function ensureRealDir(p: string, parentFresh: boolean): boolean {
  if (!parentFresh) {
    let st: Stats | undefined;
    try {
      st = lstatSync(fsPath(p));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (st !== undefined) {
      if (!st.isDirectory())
        throw new BulwarkError('ALREADY_EXISTS', `${p} exists and is not a folder (not replaced)`);
      const why = othersCanChange(st);
      if (why !== undefined) {
        if (st.uid !== process.getuid?.() && st.uid !== 0)
          throw new BulwarkError(
            'PERMISSION',
            `another user can change this folder (${why}): nothing restored into it`,
            { hint: UNSAFE_HINT },
          );
        // Ours (or root's) but open to others: closed to them while the restore writes into it; its
        // recorded mode is set at the end like every folder's. Safe to do by path: the folder above is one
        // only we can change, so this is still the folder lstat just saw. What others put in it before is
        // checked name by name as for any existing folder.
        chmodSync(fsPath(p), st.mode & 0o7755);
      }
      return false;
    }
  }
  mkdirSync(fsPath(p), { mode: 0o700 });
  return true;
}

/**
 * Sets a restored folder's mode and times through a descriptor opened with O_DIRECTORY|O_NOFOLLOW: if the
 * folder was swapped for a symlink since it was checked, the open fails (ELOOP/ENOTDIR) instead of the
 * chmod landing on what the link points to. A folder we may not open (an existing one without read
 * permission for us) falls back to the path, after lstat says it is still a real folder.
 */
function setDirMeta(path: string, mode: number, time: string): void {
  let fd: number;
  try {
    fd = openSync(fsPath(path), constants.O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR')
      throw new BulwarkError(
        'ALREADY_EXISTS',
        `${path} was replaced during the restore and is no longer a folder: its mode and time were not set`,
      );
    if (code !== 'EACCES') throw e;
    if (!lstatSync(fsPath(path)).isDirectory())
      throw new BulwarkError('ALREADY_EXISTS', `${path} is no longer a folder`);
    chmodSync(fsPath(path), mode);
    utimesSync(fsPath(path), time, time);
    return;
  }
  try {
    fchmodSync(fd, mode);
    futimesSync(fd, time, time);
  } finally {
    closeSync(fd);
  }
}

/** Removes a file or symlink at `p` (never follows it); a folder there is left for the caller to trip on. */
function removeIfPresent(p: string): void {
  let st: Stats;
  try {
    st = lstatSync(fsPath(p));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!st.isDirectory()) unlinkSync(fsPath(p));
}
