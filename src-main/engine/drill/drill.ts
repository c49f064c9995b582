/**
 * Restore drills (docs/DECISIONS.md, "Restore drills"): a backup nobody has restored is a hope. A drill
 * restores part of a snapshot (or all of it) into a scratch folder with the real restore (ops/restore.ts:
 * every blob is decrypted, authenticated and its keyed id checked on the way), then reads every restored
 * file back and compares it with what the snapshot records (size, and the keyed id of every chunk, cut with
 * the repository's own chunker), measures the time, estimates how long restoring everything would take and
 * compares that with the recovery time objective (RTO). The scratch folder is removed afterwards.
 */
import { lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { systemClock, type Clock } from '../clock.ts';
import { BulwarkError, isBulwarkError, throwIfAborted } from '../errors.ts';
import { diffSnapshots } from '../ops/diff.ts';
import { runRestorePlan } from '../ops/restore.ts';
import {
  ContentReader,
  entryDestination,
  planRestore,
  type PlanEntry,
  type RestorePlan,
} from '../ops/restore-plan.ts';
import type { RestoreProgress } from '../ops/types.ts';
import type { SnapshotManifest } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import { fsErrorText, fsPath } from '../util/fs-names.ts';
import { lastDrillOf, recordDrill, type DrillRecord, type NewDrillRecord, type RtoVerdict } from './store.ts';

/** The default sample: 1 % of the files, at least 50, at most 1 GiB. */
export interface DrillSample {
  /** share of the snapshot's files */
  fraction: number;
  minFiles: number;
  /** bytes at most */
  maxBytes: number;
}
export const DRILL_SAMPLE_DEFAULTS: Readonly<DrillSample> = {
  fraction: 0.01,
  minFiles: 50,
  maxBytes: 1 << 30,
};

export interface DrillOptions {
  /** snapshot id, unique prefix or "latest" (default: the newest snapshot of `source`, else of the repository) */
  snapshot?: string;
  /** only snapshots of this source key (the service's `service:<id>`) */
  source?: string;
  /** the service's source id, recorded with the result */
  sourceId?: string;
  /** for people (reports): the source's name (default: the snapshot's folders) */
  sourceName?: string;
  /** restore every file instead of a sample */
  full?: boolean;
  sample?: Partial<DrillSample>;
  /** the recovery time objective in minutes (absent: no verdict) */
  rtoMinutes?: number;
  /** how often drills run, for the report ("weekly", "by hand") */
  schedule?: string;
  trigger?: 'manual' | 'schedule';
  /** the scratch folder is made in here (default: the system's temporary folder) and removed afterwards */
  scratchParent?: string;
  signal?: AbortSignal;
  onProgress?: (p: RestoreProgress) => void;
  /** who restores, for the audit log */
  actor?: string;
  clock?: Clock;
  /** tests: a seeded choice of files (default Math.random) */
  random?: () => number;
  /** milliseconds from a monotonic timer (default performance.now): what throughput is measured with */
  stopwatch?: () => number;
}

/**
 * Runs a drill and records its result in the repository's catalog. Damage is a result, not an error: a
 * file that cannot be restored intact fails the drill and is named (as is a drill that could not run,
 * e.g. the target unreachable); only a cancel throws.
 */
export async function runDrill(repo: Repository, opts: DrillOptions = {}): Promise<DrillRecord> {
  const clock = opts.clock ?? systemClock;
  const stopwatch = opts.stopwatch ?? (() => performance.now());
  const startedAt = clock.now().getTime();
  const base: NewDrillRecord = {
    repositoryId: repo.config.id,
    location: repo.store.location,
    source: opts.source ?? '',
    sourceId: opts.sourceId ?? null,
    sourceName: opts.sourceName ?? '',
    snapshotId: null,
    snapshotTime: null,
    schedule: opts.schedule ?? 'by hand',
    trigger: opts.trigger ?? 'manual',
    mode: opts.full ? 'full' : 'sample',
    startedAt,
    finishedAt: startedAt,
    passed: false,
    filesTested: 0,
    bytesTested: 0,
    filesTotal: 0,
    bytesTotal: 0,
    changedFiles: 0,
    failures: [],
    restoreMs: 0,
    throughput: 0,
    estimatedFullSeconds: null,
    rtoMinutes: opts.rtoMinutes ?? null,
    rtoVerdict: 'unknown',
    error: null,
  };
  let outcome: NewDrillRecord;
  try {
    outcome = await drill(repo, opts, base, stopwatch);
  } catch (e) {
    if (isBulwarkError(e, 'CANCELED')) throw e;
    outcome = { ...base, passed: false, error: e instanceof Error ? e.message : String(e) };
  }
  outcome.finishedAt = clock.now().getTime();
  return recordDrill(repo.catalog, outcome);
}

function pickSnapshot(repo: Repository, opts: DrillOptions): SnapshotManifest {
  if (opts.snapshot !== undefined && opts.snapshot !== 'latest') {
    const s = repo.resolveSnapshot(opts.snapshot);
    if (opts.source !== undefined && s.source !== opts.source)
      throw new BulwarkError('INVALID_ARGUMENT', `snapshot ${s.id} is not a backup of this source`);
    return s;
  }
  const all = repo.catalog
    .snapshots(repo.rid)
    .filter((s) => opts.source === undefined || s.source === opts.source);
  const last = all.at(-1);
  if (!last) throw new BulwarkError('NOT_FOUND', 'there is no backup to test yet');
  return last;
}

async function drill(
  repo: Repository,
  opts: DrillOptions,
  base: NewDrillRecord,
  stopwatch: () => number,
): Promise<NewDrillRecord> {
  const snap = pickSnapshot(repo, opts);
  const result: NewDrillRecord = {
    ...base,
    source: snap.source,
    sourceName: opts.sourceName ?? snap.paths.join(', '),
    snapshotId: snap.id,
    snapshotTime: snap.time,
  };
  const parent = opts.scratchParent ?? tmpdir();
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  const scratch = mkdtempSync(join(parent, 'bulwark-drill-'));
  try {
    // The plan of a full restore walks every folder of the snapshot: what a real restore would do first,
    // so its time counts in the estimate. Nothing is at the destination: every file is `create`.
    const t0 = stopwatch();
    const full = await planRestore(repo, {
      snapshot: snap.id,
      paths: [''],
      destination: { kind: 'folder', path: scratch },
      layout: 'contents',
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
    const planMs = stopwatch() - t0;
    const files = full.entries.flatMap((e, i) => (e.kind === 'file' ? [i] : []));
    result.filesTotal = files.length;
    result.bytesTotal = files.reduce((n, i) => n + (full.entries[i]!.node.size ?? 0), 0);

    const changed = opts.full ? new Set<string>() : await changedSinceLastDrill(repo, snap);
    const chosen = opts.full ? files : choose(full, files, changed, opts);
    result.changedFiles = chosen.filter((i) => changed.has(full.entries[i]!.path)).length;
    const plan = subPlan(full, chosen);
    result.filesTested = chosen.length;
    result.bytesTested = plan.totals.bytes;

    const t1 = stopwatch();
    const restored = await runRestorePlan(repo, plan, {
      onConflict: 'overwrite',
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
      actor: opts.actor ?? 'drill',
    });
    result.restoreMs = Math.max(0, stopwatch() - t1);
    const failures = new Map<string, string>();
    // What the snapshot itself could not give (a damaged folder listing): a full restore would miss it too.
    for (const e of full.errors) failures.set(e.path, e.message);
    for (const e of restored.errors) failures.set(e.path, e.message);
    await checkRestored(repo, plan, failures, opts.signal);
    result.failures = [...failures].map(([path, message]) => ({ path, message }));
    result.passed = failures.size === 0;

    const seconds = result.restoreMs / 1000;
    result.throughput = seconds > 0 ? result.bytesTested / seconds : 0;
    result.estimatedFullSeconds = estimateFull(result, planMs, opts.full === true);
    result.rtoVerdict = verdict(result.estimatedFullSeconds, opts.rtoMinutes);
    return result;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * How long a restore of the whole snapshot would take: the plan's walk of every folder, plus the measured
 * restore scaled up by whichever is larger, the share of the bytes or the share of the files tested (a
 * sample of many small files is slowed by per-file work, one of large files by the bytes), so the estimate
 * errs on the long side. A full drill measured it: that is the answer.
 */
export function estimateFull(
  r: Pick<NewDrillRecord, 'restoreMs' | 'bytesTested' | 'bytesTotal' | 'filesTested' | 'filesTotal'>,
  planMs: number,
  full: boolean,
): number | null {
  if (r.filesTested === 0) return r.filesTotal === 0 ? planMs / 1000 : null;
  const byBytes = r.bytesTested > 0 ? r.bytesTotal / r.bytesTested : 0;
  const byFiles = r.filesTotal / r.filesTested;
  const scale = full ? 1 : Math.max(1, byBytes, byFiles);
  return (planMs + r.restoreMs * scale) / 1000;
}

export function verdict(estimatedSeconds: number | null, rtoMinutes: number | undefined): RtoVerdict {
  if (rtoMinutes === undefined || estimatedSeconds === null) return 'unknown';
  return estimatedSeconds <= rtoMinutes * 60 ? 'met' : 'exceeded';
}

/** Paths of files added or changed since the snapshot the previous drill of this source tested. */
async function changedSinceLastDrill(repo: Repository, snap: SnapshotManifest): Promise<Set<string>> {
  const last = lastDrillOf(repo.catalog, repo.config.id, snap.source);
  const out = new Set<string>();
  if (!last?.snapshotId || last.snapshotId === snap.id) return out;
  // forgotten since: nothing to compare with, the random sample stands alone
  if (!repo.catalog.snapshots(repo.rid).some((s) => s.id === last.snapshotId)) return out;
  for (const d of await diffSnapshots(repo, last.snapshotId, snap.id))
    if (d.change === 'added' || d.change === 'modified' || d.change === 'type-changed') out.add(d.path);
  return out;
}

/**
 * The sample: every changed file, then files at random until there are 1 % of them (at least `minFiles`),
 * never more than `maxBytes` in all (a file that would pass it is left out; changed ones too, at random).
 */
function choose(plan: RestorePlan, files: number[], changed: Set<string>, opts: DrillOptions): number[] {
  const s = { ...DRILL_SAMPLE_DEFAULTS, ...opts.sample };
  const random = opts.random ?? Math.random;
  const shuffled = [...files];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const want = Math.max(s.minFiles, Math.ceil(files.length * s.fraction));
  const picked: number[] = [];
  const taken = new Set<number>();
  let bytes = 0;
  const take = (i: number): void => {
    const size = plan.entries[i]!.node.size ?? 0;
    if (bytes + size > s.maxBytes) return;
    bytes += size;
    picked.push(i);
    taken.add(i);
  };
  for (const i of shuffled) if (changed.has(plan.entries[i]!.path)) take(i);
  for (const i of shuffled) {
    if (picked.length >= want) break;
    if (!taken.has(i)) take(i);
  }
  return picked.sort((a, b) => a - b);
}

/** The plan of the chosen files and the folders above them (parents renumbered), in walk order. */
function subPlan(full: RestorePlan, chosen: number[]): RestorePlan {
  const keep = new Set<number>();
  for (const i of chosen) {
    for (let k = i; k >= 0 && !keep.has(k); k = full.entries[k]!.parent) keep.add(k);
  }
  const renumber = new Map<number, number>();
  const entries: PlanEntry[] = [];
  let bytes = 0;
  for (const [i, e] of full.entries.entries()) {
    if (!keep.has(i)) continue;
    renumber.set(i, entries.length);
    entries.push({ ...e, parent: e.parent >= 0 ? renumber.get(e.parent)! : -1 });
    if (e.kind === 'file') bytes += e.node.size ?? 0;
  }
  return {
    ...full,
    entries,
    errors: [],
    warnings: [],
    totals: { files: chosen.length, bytes, create: chosen.length, identical: 0, conflicts: 0 },
  };
}

/**
 * Reads every restored file back: it must be there, a regular file of the recorded size whose every chunk
 * has the recorded keyed id. The restore already authenticated what it wrote; this proves what is on the
 * disk is the backup, byte for byte.
 */
async function checkRestored(
  repo: Repository,
  plan: RestorePlan,
  failures: Map<string, string>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const reader = new ContentReader(repo);
  for (const e of plan.entries) {
    if (e.kind !== 'file' || failures.has(e.path)) continue;
    throwIfAborted(signal);
    const dest = entryDestination(plan, e);
    let size: number;
    try {
      const st = lstatSync(fsPath(dest));
      if (!st.isFile()) {
        failures.set(e.path, 'not restored as a file');
        continue;
      }
      size = st.size;
    } catch (err) {
      failures.set(e.path, `not restored: ${fsErrorText(err)}`);
      continue;
    }
    if (size !== (e.node.size ?? 0)) {
      failures.set(e.path, `restored with ${size} bytes instead of ${e.node.size ?? 0}`);
      continue;
    }
    if (!(await reader.same(dest, e.node, signal)))
      failures.set(e.path, 'the restored file differs from the backup');
  }
}
