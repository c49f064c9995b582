/**
 * Restore drills in the service: per source a schedule (every `drillEveryDays`, weekly by default) and an
 * RTO (`rtoMinutes`, 4 hours by default). A drill is a job of its own (kind `drill`), queued like upkeep so
 * its measured speed is not shared with a backup of the same target; its result goes to the catalog's
 * drills table (engine/drill), and a failure or an estimate over the RTO raises `drill-failed` (cleared by
 * the next drill that passes within it).
 */
import { hostname } from 'node:os';
import type { Catalog } from '../catalog/catalog.ts';
import type { Clock } from '../clock.ts';
import { BulwarkError } from '../errors.ts';
import { runDrill } from '../drill/drill.ts';
import { drillOutcomeText, renderDrillReportHtml, rtoText } from '../drill/report.ts';
import { listDrills, type DrillRecord } from '../drill/store.ts';
import type { Repository } from '../repo/repository.ts';
import type { AlertCenter } from './alerts.ts';
import type { JobInfo, JobManager, RunnerProgress } from './jobs.ts';
import { sourceKey, type ServiceConfig, type Source } from './sources.ts';

const DAY = 86_400_000;
/** Files named in the alert's text (the report and drills.list name them all). */
const NAMED_IN_ALERT = 3;

export interface ServiceDrillsDeps {
  catalog: Catalog;
  clock: Clock;
  config: ServiceConfig;
  jobs: JobManager;
  alerts: AlertCenter;
  repositoryFor(sourceId: string, signal?: AbortSignal): Promise<Repository>;
  /** scratch folders are made (and removed) in here */
  scratchParent: string;
}

/** "weekly", "daily", "every 3 days": how the report names a schedule. */
export function scheduleText(days: number): string {
  if (days === 1) return 'daily';
  if (days === 7) return 'weekly';
  if (days === 14) return 'every two weeks';
  if (days >= 28 && days <= 31) return 'monthly';
  if (days < 1) return `every ${Math.max(1, Math.round(days * 24))} hours`;
  return `every ${Number.isInteger(days) ? days : days.toFixed(1)} days`;
}

export class ServiceDrills {
  private readonly deps: ServiceDrillsDeps;

  constructor(deps: ServiceDrillsDeps) {
    this.deps = deps;
  }

  /** Queues a drill of the source now (merged with one already queued). */
  run(sourceId: string, trigger: 'manual' | 'schedule' = 'manual'): JobInfo {
    const s = this.deps.config.source(sourceId);
    if (s.lastSnapshotId === null && this.newestSnapshotCount(s) === 0)
      throw new BulwarkError('NOT_FOUND', `${s.name} has no backup to test yet: wait for its first backup`);
    return this.deps.jobs.enqueueMaintenance({
      kind: 'drill',
      sourceId: s.id,
      targetId: s.targetId,
      reason: trigger === 'manual' ? 'manual' : 'rescan',
      run: async (_job, ctx) => ({ stats: await this.drill(s.id, trigger, ctx.signal, ctx.onProgress) }),
    });
  }

  /** Drills of a source (or of every source), newest first. */
  list(opts: { sourceId?: string; limit?: number } = {}): DrillRecord[] {
    return listDrills(this.deps.catalog, {
      ...(opts.sourceId !== undefined ? { sourceId: opts.sourceId } : {}),
      limit: opts.limit ?? 50,
    });
  }

  /** The printable report (engine/drill/report.ts) of the last drills. */
  reportHtml(opts: { sourceId?: string; limit?: number } = {}): string {
    return renderDrillReportHtml({
      drills: this.list(opts),
      generatedAt: this.deps.clock.now().getTime(),
      subtitle: hostname(),
    });
  }

  /**
   * Queues the drills that are due: a source's first drill one interval after it was added (its first
   * backups come first), then one interval after the previous drill. Only sources with a backup.
   */
  tick(now: number): void {
    for (const s of this.deps.config.sources()) {
      if (!s.enabled || s.lastSnapshotId === null) continue;
      const last = listDrills(this.deps.catalog, { sourceId: s.id, limit: 1 })[0];
      const from = last?.startedAt ?? s.createdAt;
      if (now - from < s.drillEveryDays * DAY) continue;
      if (this.active(s)) continue;
      this.run(s.id, 'schedule');
    }
  }

  private active(s: Source): boolean {
    return this.deps.jobs
      .list()
      .some(
        (j) =>
          j.kind === 'drill' &&
          j.sourceId === s.id &&
          (j.state === 'QUEUED' || j.state === 'RUNNING' || j.state === 'CANCELING'),
      );
  }

  private newestSnapshotCount(s: Source): number {
    return this.deps.catalog.db
      .prepare<[string], { n: number }>('SELECT count(*) AS n FROM snapshots WHERE source = ?')
      .get(sourceKey(s.id))!.n;
  }

  private async drill(
    sourceId: string,
    trigger: 'manual' | 'schedule',
    signal: AbortSignal,
    onProgress: (p: RunnerProgress) => void,
  ): Promise<DrillRecord> {
    const s = this.deps.config.source(sourceId);
    let repo: Repository;
    try {
      repo = await this.deps.repositoryFor(sourceId, signal);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.deps.alerts.raise({
        kind: 'drill-failed',
        sourceId,
        text: `The restore test of ${s.name} could not run: its backup destination could not be opened (${why}).`,
      });
      throw e;
    }
    const d = await runDrill(repo, {
      source: sourceKey(s.id),
      sourceId: s.id,
      sourceName: s.name,
      rtoMinutes: s.rtoMinutes,
      schedule: scheduleText(s.drillEveryDays),
      trigger,
      scratchParent: this.deps.scratchParent,
      signal,
      actor: 'service-drill',
      clock: this.deps.clock,
      onProgress: (p) =>
        onProgress({
          phase: 'restoring',
          filesDone: p.filesDone,
          filesTotal: p.filesTotal,
          bytesDone: p.bytesDone,
          bytesTotal: p.bytesTotal,
          rate: p.rate ?? 0,
          ...(p.etaSeconds !== undefined ? { etaSeconds: p.etaSeconds } : {}),
          ...(p.currentPath !== undefined ? { currentPath: p.currentPath } : {}),
        }),
    });
    const text = alertText(s, d);
    if (text === undefined) this.deps.alerts.clear('drill-failed', { sourceId });
    else this.deps.alerts.raise({ kind: 'drill-failed', sourceId, text });
    if (!d.passed) throw new BulwarkError(d.error !== null ? 'IO' : 'CORRUPT', drillOutcomeText(d));
    return d;
  }
}

/** The alert's words for a drill that failed or whose estimate exceeds the RTO; undefined when all is well. */
export function alertText(s: Pick<Source, 'name'>, d: DrillRecord): string | undefined {
  if (d.error !== null) return `The restore test of ${s.name} could not run: ${d.error}.`;
  if (!d.passed) {
    const named = d.failures.slice(0, NAMED_IN_ALERT).map((f) => `"${f.path}"`);
    const more = d.failures.length - named.length;
    const list = more > 0 ? `${named.join(', ')} and ${more} more` : named.join(', ');
    return (
      `The restore test of ${s.name} found ${d.failures.length} ${d.failures.length === 1 ? 'file' : 'files'} ` +
      `that cannot be restored intact from its backups: ${list}.`
    );
  }
  if (d.rtoVerdict === 'exceeded')
    return `Restoring everything of ${s.name} would take ${rtoText(d)}: the backups work, but too slowly.`;
  return undefined;
}
