/**
 * 3-2-1 in the service (issue 13): a source may name extra copy targets (`copyTargetIds`). After each good
 * backup of the source, one `copy` job per copy target replicates that source's new snapshots from its
 * repository into the copy target's (engine/ops/copy.ts: re-keyed, re-locked, idempotent). Each copy target
 * is a job of its own, so one that is offline fails alone: the others and the backups go on.
 *
 * What a copy target holds is read from the catalog's snapshots table (the destination's own list, which a
 * copy updates as it commits), so the status says what is there, not what was attempted. Per (source, copy
 * target) the last attempt and its error live in `service_copies` (migrations.ts).
 *
 * `copy-behind` (warning) is raised when a copy target's newest copy of the source is older than the
 * source's RPO while the source itself is backed up within it, and cleared once the copy catches up. A copy
 * that is behind is retried by the tick (at most every RETRY_MS), so an external disk or a NAS that was
 * switched off catches up by itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from '../catalog/catalog.ts';
import type { Clock } from '../clock.ts';
import { copySnapshots, type CopyResult } from '../ops/copy.ts';
import type { Repository } from '../repo/repository.ts';
import type { AlertCenter } from './alerts.ts';
import { sameDisk, type DiskProbe } from './folders.ts';
import type { JobInfo, JobManager } from './jobs.ts';
import { sourceKey, type ServiceConfig, type Source, type Target } from './sources.ts';

const MINUTE = 60_000;
/** a copy that is behind is tried again at most this often by the tick */
const RETRY_MS = 15 * MINUTE;

/** Where a copy lives, as an office manager would say it. */
export type CopyMedium = 'this-disk' | 'other-disk' | 'nas' | 'cloud';

export interface CopyPlace {
  targetId: string;
  name: string;
  /** the target the source backs up to (the others are copy targets) */
  primary: boolean;
  medium: CopyMedium;
  /** away from this office: a cloud bucket (a NAS or a disk here is not) */
  offsite: boolean;
  /** time of the newest snapshot of the source this target holds (ms); null: nothing yet */
  newestAt: number | null;
  /** copy targets: when a copy last ran, and why it failed (null: it worked) */
  lastAttemptAt: number | null;
  lastError: string | null;
  /** a copy target whose newest copy is older than the source's RPO while the source is current */
  behind: boolean;
}

export interface ThreeTwoOne {
  places: CopyPlace[];
  /** places holding a backup of the source that is not behind */
  copies: number;
  /** kinds of media among those places */
  media: CopyMedium[];
  /** of those, how many are off-site */
  offsite: number;
  /** at least two copies, one of them off this computer's disk, one off-site */
  met: boolean;
  /** what is missing, in plain words (empty when met) */
  missing: string[];
  /** one line: "2 copies · 1 off-site" or "Only one copy — add an off-site copy" */
  summary: string;
}

export interface ServiceCopiesDeps {
  catalog: Catalog;
  clock: Clock;
  config: ServiceConfig;
  jobs: JobManager;
  alerts: AlertCenter;
  disk: DiskProbe;
  repositoryFor(sourceId: string, signal?: AbortSignal): Promise<Repository>;
  repositoryForTarget(targetId: string, signal?: AbortSignal): Promise<Repository>;
  /** where copies build their packs (a folder per job, removed by the engine's copy) */
  tmpParent: string;
  /** the file-system type of the mount a folder is on ('nfs', 'cifs', …); default: /proc/self/mounts */
  fsTypeOf?: (path: string) => string | undefined;
  /** after a copy ran or an alert changed: the source's status may have changed */
  onChanged?: (sourceId: string) => void;
}

interface CopyRow {
  source_id: string;
  target_id: string;
  first_attempt_at: number;
  last_attempt_at: number;
  last_success_at: number | null;
  last_error: string | null;
}

/** Network file systems: a folder on one of these is a NAS (or another computer's share). */
const NETWORK_FS = /^(nfs4?|cifs|smb3?|smbfs|afpfs|fuse\.sshfs|sshfs|9p|davfs|fuse\.davfs2?|glusterfs|ceph)$/;

export class ServiceCopies {
  private readonly deps: ServiceCopiesDeps;
  private mounts: { at: number; list: { dir: string; type: string }[] } | undefined;

  constructor(deps: ServiceCopiesDeps) {
    this.deps = deps;
  }

  private now(): number {
    return this.deps.clock.now().getTime();
  }

  /** After a good backup: one copy job per copy target (merged with one already queued). */
  afterBackup(s: Source): JobInfo[] {
    return s.copyTargetIds.flatMap((targetId) =>
      this.deps.config.findTarget(targetId) ? [this.enqueue(s.id, targetId)] : [],
    );
  }

  /** Queues a copy of the source's snapshots into one copy target now. */
  enqueue(sourceId: string, targetId: string): JobInfo {
    return this.deps.jobs.enqueueMaintenance({
      kind: 'copy',
      sourceId,
      targetId,
      reason: 'manual',
      run: async (_job, ctx) => ({ stats: await this.copy(sourceId, targetId, ctx.signal) }),
    });
  }

  /**
   * Raises or clears `copy-behind` for every copy target of every source, and queues a copy for one that is
   * behind the source (not tried for RETRY_MS). Called by the service's tick.
   */
  tick(opts: { paused: boolean }): void {
    const now = this.now();
    for (const s of this.deps.config.sources()) {
      this.evaluate(s, now);
      if (opts.paused || !s.enabled || s.lastSuccessAt === null) continue;
      const primaryNewest = this.newestAt(s, s.targetId);
      for (const targetId of s.copyTargetIds) {
        if (!this.deps.config.findTarget(targetId) || this.active(s.id, targetId)) continue;
        const newest = this.newestAt(s, targetId);
        if (primaryNewest === null || (newest !== null && newest >= primaryNewest)) continue;
        const last = this.row(s.id, targetId)?.last_attempt_at ?? null;
        if (last !== null && now - last < RETRY_MS) continue;
        this.enqueue(s.id, targetId);
      }
    }
  }

  /** Forgets the copy state of a removed source and clears its alerts. */
  sourceRemoved(sourceId: string): void {
    this.deps.catalog.db.prepare('DELETE FROM service_copies WHERE source_id = ?').run(sourceId);
    this.deps.alerts.clear('copy-behind', { sourceId });
  }

  /** Clears the alerts of copy targets a source no longer copies to (its settings changed). */
  sourceUpdated(s: Source): void {
    for (const a of this.deps.alerts.list({ active: true, sourceId: s.id })) {
      if (a.kind === 'copy-behind' && a.targetId !== null && !s.copyTargetIds.includes(a.targetId))
        this.deps.alerts.clear('copy-behind', { sourceId: s.id, targetId: a.targetId });
    }
    this.evaluate(s, this.now());
  }

  /** Where the source's backups are, and what is missing for 3-2-1. */
  status(s: Source, now: number = this.now()): ThreeTwoOne {
    const places: CopyPlace[] = [];
    const primary = this.deps.config.findTarget(s.targetId);
    if (primary) {
      places.push({
        ...this.where(primary, s),
        primary: true,
        // the primary's own record is what its backups committed (the catalog may not be read yet)
        newestAt: this.newestAt(s, primary.id) ?? s.lastSuccessAt,
        lastAttemptAt: null,
        lastError: null,
        behind: false,
      });
    }
    for (const targetId of s.copyTargetIds) {
      const t = this.deps.config.findTarget(targetId);
      if (!t) continue;
      const row = this.row(s.id, t.id);
      const newestAt = this.newestAt(s, t.id);
      places.push({
        ...this.where(t, s),
        primary: false,
        newestAt,
        lastAttemptAt: row?.last_attempt_at ?? null,
        lastError: row?.last_error ?? null,
        behind: this.isBehind(s, newestAt, row, now),
      });
    }
    return summarize(places);
  }

  // ---- internals -------------------------------------------------------------------------------------

  private async copy(sourceId: string, targetId: string, signal: AbortSignal): Promise<CopyResult | null> {
    const s = this.deps.config.source(sourceId);
    const started = this.now();
    try {
      const from = await this.deps.repositoryFor(sourceId, signal);
      const to = await this.deps.repositoryForTarget(targetId, signal);
      // Only this source's snapshots: other sources backing up to the same target keep their own copy settings.
      const key = sourceKey(s.id);
      const ids = (await from.syncSnapshots(signal)).filter((m) => m.source === key).map((m) => m.id);
      // an empty list would mean "every snapshot" to the engine's copy
      const result =
        ids.length === 0
          ? null
          : await copySnapshots(from, to, {
              snapshots: ids,
              signal,
              actor: 'service-copy',
              tmpDir: join(this.deps.tmpParent, `${sourceId}-${targetId}`),
            });
      this.record(sourceId, targetId, started, null);
      return result;
    } catch (e) {
      // a canceled copy (pause, shutdown) is no failure of the destination: it is tried again later
      if (!signal.aborted)
        this.record(sourceId, targetId, started, e instanceof Error ? e.message : String(e));
      throw e;
    } finally {
      const fresh = this.deps.config.findSource(sourceId);
      if (fresh) this.evaluate(fresh, this.now());
      this.deps.onChanged?.(sourceId);
    }
  }

  private record(sourceId: string, targetId: string, at: number, error: string | null): void {
    this.deps.catalog.db
      .prepare(
        `INSERT INTO service_copies (source_id, target_id, first_attempt_at, last_attempt_at, last_success_at,
           last_error) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (source_id, target_id) DO UPDATE SET last_attempt_at = excluded.last_attempt_at,
           last_success_at = coalesce(excluded.last_success_at, last_success_at), last_error = excluded.last_error`,
      )
      .run(sourceId, targetId, at, at, error === null ? at : null, error);
  }

  private row(sourceId: string, targetId: string): CopyRow | undefined {
    return this.deps.catalog.db
      .prepare<[string, string], CopyRow>(
        'SELECT * FROM service_copies WHERE source_id = ? AND target_id = ?',
      )
      .get(sourceId, targetId);
  }

  /** The time of the newest snapshot of the source in a target's repository, as the catalog knows it. */
  private newestAt(s: Source, targetId: string): number | null {
    const t = this.deps.config.findTarget(targetId);
    if (!t?.repoId) return null;
    const r = this.deps.catalog.db
      .prepare<[string, string], { time: string | null }>(
        `SELECT max(s.time) AS time FROM snapshots s JOIN repositories r ON r.rid = s.rid
         WHERE r.repo_id = ? AND s.source = ?`,
      )
      .get(t.repoId, sourceKey(s.id));
    return r?.time ? Date.parse(r.time) : null;
  }

  /**
   * Behind: the source is backed up within its RPO, but this copy's newest snapshot is older than that (or
   * there is none, and the first try is older than that). A copy never tried yet is waiting, not late.
   */
  private isBehind(s: Source, newestAt: number | null, row: CopyRow | undefined, now: number): boolean {
    const rpo = s.rpoMinutes * MINUTE;
    if (s.lastSuccessAt === null || now - s.lastSuccessAt > rpo) return false; // rpo-missed says it
    // A backup that found no change adds no snapshot: a copy holding the primary's newest one is current.
    const primaryNewest = this.newestAt(s, s.targetId);
    if (newestAt !== null && primaryNewest !== null && newestAt >= primaryNewest) return false;
    if (newestAt !== null) return now - newestAt > rpo;
    return row !== undefined && now - row.first_attempt_at > rpo;
  }

  private evaluate(s: Source, now: number): void {
    for (const targetId of s.copyTargetIds) {
      const t = this.deps.config.findTarget(targetId);
      if (!t) continue;
      const row = this.row(s.id, t.id);
      const newestAt = this.newestAt(s, t.id);
      if (!this.isBehind(s, newestAt, row, now)) {
        if (this.deps.alerts.clear('copy-behind', { sourceId: s.id, targetId: t.id }).length > 0)
          this.deps.onChanged?.(s.id);
        continue;
      }
      // the engine's error names paths and codes: the Sources page shows it; the alert says what it means
      const why = row?.last_error
        ? ' The last try to copy there did not work: it could not be reached or used.'
        : '';
      const age =
        newestAt === null
          ? 'has no copy of its backups yet'
          : `holds nothing newer than ${minutesText(now - newestAt)}`;
      this.deps.alerts.raise({
        kind: 'copy-behind',
        sourceId: s.id,
        targetId: t.id,
        text:
          `The extra copy of ${s.name} on ${t.name} ${age} (it should be at most ${minutesText(s.rpoMinutes * MINUTE)} ` +
          `behind).${why}`,
      });
    }
  }

  private active(sourceId: string, targetId: string): boolean {
    return this.deps.jobs
      .list()
      .some(
        (j) =>
          j.kind === 'copy' &&
          j.sourceId === sourceId &&
          j.targetId === targetId &&
          (j.state === 'QUEUED' || j.state === 'RUNNING' || j.state === 'CANCELING'),
      );
  }

  private where(t: Target, s: Source): Pick<CopyPlace, 'targetId' | 'name' | 'medium' | 'offsite'> {
    return { targetId: t.id, name: t.name, medium: this.medium(t, s), offsite: t.kind === 's3' };
  }

  /** The kind of media a target is: a cloud bucket, a network share (NAS), this disk or another disk. */
  private medium(t: Target, s: Source): CopyMedium {
    if (t.kind === 's3') return 'cloud';
    if (t.isDefault || sameDisk(t.location, s.paths, this.deps.disk)) return 'this-disk';
    if (/^(\\\\|\/\/)/.test(t.location)) return 'nas'; // a Windows share (\\server\share)
    const type = (this.deps.fsTypeOf ?? ((p: string) => this.mountType(p)))(t.location);
    return type !== undefined && NETWORK_FS.test(type) ? 'nas' : 'other-disk';
  }

  /** The type of the mount holding `path` (Linux /proc/self/mounts, read at most once a minute). */
  private mountType(path: string): string | undefined {
    const now = Date.now(); // a cache age, not a record: the wall clock is right here
    if (!this.mounts || now - this.mounts.at > MINUTE) {
      let list: { dir: string; type: string }[];
      try {
        list = readFileSync('/proc/self/mounts', 'utf8')
          .split('\n')
          .map((l) => l.split(' '))
          .filter((f) => f.length >= 3)
          .map((f) => ({ dir: f[1]!.replace(/\\040/g, ' '), type: f[2]! }));
      } catch (e) {
        // not Linux (macOS, Windows): no mount table, so a folder counts as another disk, never as off-site
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT')
          process.emitWarning(
            `the mount table could not be read: ${(e as Error).message}`,
            'BulwarkServiceWarning',
          );
        list = [];
      }
      this.mounts = { at: now, list };
    }
    let best: { dir: string; type: string } | undefined;
    for (const m of this.mounts.list) {
      const inside = path === m.dir || path.startsWith(m.dir.endsWith('/') ? m.dir : `${m.dir}/`);
      if (inside && (!best || m.dir.length > best.dir.length)) best = m;
    }
    return best?.type;
  }
}

/** "45 minutes", "3 hours", "2 days". */
function minutesText(ms: number): string {
  const min = Math.max(1, Math.round(ms / MINUTE));
  if (min < 120) return `${min} ${min === 1 ? 'minute' : 'minutes'}`;
  const h = Math.round(min / 60);
  if (h < 48) return `${h} hours`;
  return `${Math.round(h / 24)} days`;
}

const MEDIUM_WORDS: Readonly<Record<CopyMedium, string>> = {
  'this-disk': 'this computer’s disk',
  'other-disk': 'another disk',
  nas: 'a network folder (NAS)',
  cloud: 'a cloud bucket',
};

/** Counts the places that hold a current backup and says what 3-2-1 still needs. Pure. */
export function summarize(places: CopyPlace[]): ThreeTwoOne {
  // A place counts only once it holds a backup that is not late: never greener than the truth.
  const good = places.filter((p) => p.newestAt !== null && !p.behind);
  const media = [...new Set(good.map((p) => p.medium))];
  const offsite = good.filter((p) => p.offsite).length;
  const offDisk = good.some((p) => p.medium !== 'this-disk');
  const missing: string[] = [];
  if (good.length < 2 && offsite > 0) missing.push('Add a second copy: a NAS folder or an external disk.');
  if (offsite === 0) missing.push('Add an off-site copy: a cloud bucket.');
  if (!offDisk && offsite === 0 && good.length > 0)
    missing.push('Keep a copy off this computer’s disk: a NAS folder, an external disk or a cloud bucket.');
  const late = places.filter((p) => p.behind).map((p) => p.name);
  if (late.length > 0) missing.push(`Reconnect ${late.join(' and ')}: its copy is late.`);
  const met = good.length >= 2 && offsite >= 1 && offDisk && late.length === 0;
  const copiesWord = `${good.length} ${good.length === 1 ? 'copy' : 'copies'}`;
  const summary =
    good.length === 0
      ? 'No copy yet'
      : met
        ? `${copiesWord} · ${offsite} off-site`
        : good.length === 1
          ? offsite === 0
            ? 'Only one copy — add an off-site copy'
            : 'Only one copy — add a second copy'
          : offsite === 0
            ? `${copiesWord} · none off-site — add an off-site copy`
            : `${copiesWord} · ${offsite} off-site — ${late.length > 0 ? 'a copy is late' : 'not yet 3-2-1'}`;
  return { places, copies: good.length, media, offsite, met, missing, summary };
}

export { MEDIUM_WORDS };
