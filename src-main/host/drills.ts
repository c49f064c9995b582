import type { Drill } from '../contract/drills.ts';
import { ok } from '../contract/result.ts';
import type { DrillRecord } from '../engine/index.ts';
import type { BackupService } from '../engine/service/index.ts';
import { adoptRepositorySources } from '../engine/service/recovery.ts';
import type { Handlers } from '../transport/dispatch.ts';
import * as adapt from './adapt.ts';

/**
 * Restore drills (`drills.run`, `drills.list`, `drills.report`) and disaster recovery (`targets.connect`:
 * "Restore from an existing backup" on a new computer). The report is answered as HTML for the app to show
 * in a window of its own (print, save as PDF): the same answer works in the desktop app, which has no HTTP
 * server, and in a browser on `bulwark serve`, and it carries no link back to the service.
 */

export const DRILL_CHANNELS = [
  'bulwark:drills.run',
  'bulwark:drills.list',
  'bulwark:drills.report',
  'bulwark:targets.connect',
] as const;
export type DrillHandlers = Pick<Handlers, (typeof DRILL_CHANNELS)[number]>;

const iso = (ms: number): string => new Date(ms).toISOString();

export function drill(d: DrillRecord): Drill {
  return {
    id: d.id,
    ...(d.sourceId !== null ? { sourceId: d.sourceId } : {}),
    sourceName: d.sourceName,
    location: d.location,
    ...(d.snapshotId !== null ? { snapshotId: d.snapshotId } : {}),
    ...(d.snapshotTime !== null ? { snapshotTime: d.snapshotTime } : {}),
    schedule: d.schedule,
    trigger: d.trigger,
    mode: d.mode,
    startedAt: iso(d.startedAt),
    finishedAt: iso(d.finishedAt),
    passed: d.passed,
    filesTested: d.filesTested,
    bytesTested: d.bytesTested,
    filesTotal: d.filesTotal,
    bytesTotal: d.bytesTotal,
    changedFiles: d.changedFiles,
    failures: d.failures.map((f) => ({ path: f.path, message: f.message })),
    restoreSeconds: d.restoreMs / 1000,
    throughput: d.throughput,
    ...(d.estimatedFullSeconds !== null ? { estimatedFullSeconds: d.estimatedFullSeconds } : {}),
    ...(d.rtoMinutes !== null ? { rtoMinutes: d.rtoMinutes } : {}),
    rtoVerdict: d.rtoVerdict,
    ...(d.error !== null ? { error: d.error } : {}),
  };
}

/**
 * `connectTarget`: the targets.add handler, which with `repository: 'existing'` opens the repository with
 * the password (never creating one), keeps its secrets and rebuilds the catalog from it.
 */
export function createDrillHandlers(
  service: BackupService,
  connectTarget: Handlers['bulwark:targets.add'],
): DrillHandlers {
  return {
    'bulwark:drills.run': ({ sourceId }) => ok({ job: adapt.job(service.drills.run(sourceId)) }),

    'bulwark:drills.list': ({ sourceId, limit }) => {
      if (sourceId !== undefined) service.config.source(sourceId); // NOT_FOUND for an unknown source
      return ok({
        drills: service.drills
          .list({
            ...(sourceId !== undefined ? { sourceId } : {}),
            ...(limit !== undefined ? { limit } : {}),
          })
          .map(drill),
      });
    },

    'bulwark:drills.report': ({ sourceId, limit }) => {
      const name = sourceId !== undefined ? service.config.source(sourceId).name : undefined;
      const html = service.drills.reportHtml({
        ...(sourceId !== undefined ? { sourceId } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
      const day = new Date().toISOString().slice(0, 10);
      const slug = (name ?? 'all').replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '') || 'source';
      return ok({ html, fileName: `restore-tests-${slug}-${day}.html` });
    },

    'bulwark:targets.connect': async (req) => {
      // Never creates a repository and never changes one's lock settings: only what is there is opened.
      const { initialize: _initialize, ...request } = req;
      if (request.kind === 's3') delete request.objectLock;
      const added = await connectTarget({ ...request, repository: 'existing' });
      if (!added.ok) return added;
      const target = added.value.target;
      const repo = await service.repositoryForTarget(target.id);
      const adopted = adoptRepositorySources(service.config, repo, target.id);
      const sources = [...adopted.added, ...adopted.existing].map((s) =>
        adapt.sourceStatus(service.getSource(s.id)),
      );
      return ok({ target, sources, snapshots: repo.catalog.snapshots(repo.rid).length });
    },
  };
}
