import type { EventName, EventOf } from '../contract/ipc.ts';
import type { RpoState } from '../contract/model.ts';
import { ok } from '../contract/result.ts';
import type { BackupService, SourceInput, SourceUpdate } from '../engine/service/index.ts';
import type { Clock } from '../engine/index.ts';
import type { Handlers, Logger } from '../transport/dispatch.ts';
import * as adapt from './adapt.ts';
import { defaultFolderEnv, listFolders, type FolderEnv } from './folders.ts';
import { createOversightHandlers, OVERSIGHT_CHANNELS } from './oversight.ts';
import { createSignalHandlers, SIGNAL_CHANNELS } from './signals.ts';
import { createRestoreBrowseHandlers, RESTORE_BROWSE_CHANNELS } from './restore-browse.ts';
import { createRetentionHandlers, RETENTION_CHANNELS } from './retention.ts';
import { createRestoreRunHandlers, RESTORE_RUN_CHANNELS, type DownloadTickets } from './restore-run.ts';
import { createTargetHandlers, TARGET_CHANNELS } from './target-handlers.ts';
import { createDrillHandlers, DRILL_CHANNELS } from './drills.ts';
import type { TargetAccess } from './targets.ts';

/**
 * The handlers of the service channels (sources, targets, jobs, alerts), over the engine's BackupService,
 * and the forwarding of its events as contract events. Shared by `bulwark serve` and the Electron shell:
 * both pass the result to their transport (HTTP + WebSocket, or the IPC router), which validates requests
 * and answers against the contract; engine errors (BulwarkError) travel as typed Result errors.
 */

export const SERVICE_CHANNELS = [
  'bulwark:service.status',
  'bulwark:sources.list',
  'bulwark:sources.add',
  'bulwark:sources.update',
  'bulwark:sources.remove',
  ...TARGET_CHANNELS,
  'bulwark:jobs.list',
  'bulwark:jobs.runNow',
  'bulwark:jobs.cancel',
  'bulwark:jobs.pauseAll',
  'bulwark:jobs.resumeAll',
  'bulwark:alerts.list',
  'bulwark:alerts.acknowledge',
  'bulwark:fs.folders',
  ...RESTORE_RUN_CHANNELS,
  ...RESTORE_BROWSE_CHANNELS,
  ...RETENTION_CHANNELS,
  ...OVERSIGHT_CHANNELS,
  ...SIGNAL_CHANNELS,
  ...DRILL_CHANNELS,
] as const;

export type ServiceChannel = (typeof SERVICE_CHANNELS)[number];
export type ServiceHandlers = Pick<Handlers, ServiceChannel>;

/** Recorded runs returned by jobs.list unless asked otherwise. */
const DEFAULT_HISTORY = 20;

/** Drops the keys whose value is undefined (the engine's schemas are strict about unknown keys only). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export interface ServiceHandlerOptions {
  /** the computer the folder picker shows (tests: a temp home and mount folders) */
  folders?: FolderEnv;
  /** where restore.download keeps its one-time links (`bulwark serve`); absent: UNSUPPORTED (the app) */
  downloads?: DownloadTickets;
  /** the service's clock (stats.storage counts its days); default the system's */
  clock?: Clock;
}

export function createServiceHandlers(
  service: BackupService,
  access: TargetAccess,
  opts: ServiceHandlerOptions = {},
): ServiceHandlers {
  const folderEnv = opts.folders ?? defaultFolderEnv();
  const targetHandlers = createTargetHandlers(service, access);
  return {
    'bulwark:service.status': () => {
      const sources = service.listSources();
      const rpo: Record<RpoState, number> = { ok: 0, pending: 0, missed: 0 };
      for (const s of sources) if (s.enabled) rpo[adapt.rpoState(s.rpoState)]++;
      const jobs = service.listJobs();
      return ok({
        overall: adapt.overall(service.overallProtection(sources)),
        started: service.started,
        paused: service.paused,
        sources: sources.map(adapt.sourceStatus),
        targets: service.listTargets().map(adapt.target),
        rpo,
        activeAlerts: service.listAlerts({ active: true }).length,
        jobs: {
          running: jobs.filter((j) => j.state === 'RUNNING' || j.state === 'CANCELING').length,
          queued: jobs.filter((j) => j.state === 'QUEUED').length,
        },
      });
    },

    'bulwark:sources.list': () => ok({ sources: service.listSources().map(adapt.sourceStatus) }),

    'bulwark:sources.add': async (req) => {
      const input: SourceInput = defined({ ...req });
      return ok({ source: adapt.sourceStatus(await service.addSource(input)) });
    },

    'bulwark:sources.update': async ({ sourceId, ...changes }) => {
      const update: SourceUpdate = defined({ ...changes });
      return ok({ source: adapt.sourceStatus(await service.updateSource(sourceId, update)) });
    },

    'bulwark:sources.remove': async ({ sourceId }) => {
      await service.removeSource(sourceId);
      return ok({ sourceId });
    },

    'bulwark:jobs.list': ({ sourceId, historyLimit }) => {
      const jobs = service.listJobs().filter((j) => sourceId === undefined || j.sourceId === sourceId);
      const history =
        historyLimit === 0
          ? []
          : service.history({
              ...(sourceId !== undefined ? { sourceId } : {}),
              limit: historyLimit ?? DEFAULT_HISTORY,
            });
      return ok({ paused: service.paused, jobs: jobs.map(adapt.job), history: history.map(adapt.run) });
    },

    'bulwark:jobs.runNow': ({ sourceId }) => ok({ job: adapt.job(service.runNow(sourceId)) }),

    'bulwark:jobs.cancel': ({ jobId }) => ok({ job: adapt.job(service.cancel(jobId)) }),

    'bulwark:jobs.pauseAll': () => {
      service.pauseAll();
      return ok({ paused: service.paused });
    },

    'bulwark:jobs.resumeAll': () => {
      service.resumeAll();
      return ok({ paused: service.paused });
    },

    'bulwark:alerts.list': ({ active, sourceId, limit }) =>
      ok({
        alerts: service
          .listAlerts(
            defined({ active, sourceId, limit }) as { active?: boolean; sourceId?: string; limit?: number },
          )
          .map(adapt.alert),
      }),

    'bulwark:alerts.acknowledge': ({ alertId }) =>
      ok({ alert: adapt.alert(service.acknowledgeAlert(alertId)) }),

    'bulwark:fs.folders': ({ path }) => ok(listFolders(path, folderEnv)),

    ...targetHandlers,
    ...createDrillHandlers(service, targetHandlers['bulwark:targets.add']),
    ...createRestoreRunHandlers(service, opts.downloads ? { downloads: opts.downloads } : {}),
    ...createRestoreBrowseHandlers(service),
    ...createRetentionHandlers(service),
    ...createOversightHandlers(service, opts.clock),
    ...createSignalHandlers(service),
  };
}

/** Where forwarded events go: an event hub (bulwark serve) or the Electron event publisher. */
export type ContractEmit = <E extends EventName>(event: E, payload: EventOf<E>) => void;

/**
 * Forwards the service's events as contract events. Besides job, progress and alert events, every change
 * that alters what a source's status shows (a job queued, running or finished; the watcher changing mode;
 * the source itself edited) goes out as `source.changed` with the source's fresh status, so a UI never
 * has to poll. Returns the function that stops forwarding.
 */
export function forwardServiceEvents(
  service: BackupService,
  emit: ContractEmit,
  log: Logger = () => {},
): () => void {
  const send: ContractEmit = (event, payload) => {
    try {
      emit(event, payload);
    } catch (e) {
      log(`could not forward ${event}`, e);
    }
  };
  const sourceChanged = (sourceId: string, removed = false): void => {
    if (removed) {
      send('bulwark:source.changed', { sourceId, removed: true });
      return;
    }
    let status;
    try {
      status = service.getSource(sourceId);
    } catch {
      return; // removed meanwhile, or the service is stopping: nothing to show
    }
    send('bulwark:source.changed', { sourceId, removed: false, source: adapt.sourceStatus(status) });
  };
  const offs = [
    service.on('job.state', (e) => {
      send('bulwark:job.state', adapt.jobStateEvent(e));
      sourceChanged(e.job.sourceId);
    }),
    service.on('job.progress', (p) => send('bulwark:job.progress', adapt.progress(p))),
    service.on('alert.raised', (a) => send('bulwark:alert.raised', adapt.alert(a))),
    service.on('alert.cleared', (a) => send('bulwark:alert.cleared', adapt.alert(a))),
    service.on('alert.acknowledged', (a) => send('bulwark:alert.acknowledged', adapt.alert(a))),
    service.on('source.changed', (e) => sourceChanged(e.sourceId, e.removed)),
    service.on('watch.status', (st) => sourceChanged(st.sourceId)),
  ];
  return () => {
    for (const off of offs) off();
  };
}
