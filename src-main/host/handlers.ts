import type { EventName, EventOf, ParsedRequestOf } from '../contract/ipc.ts';
import type { RpoState } from '../contract/model.ts';
import { ok } from '../contract/result.ts';
import type { LockPolicy } from '../engine/index.ts';
import type { BackupService, SourceInput, SourceUpdate, TargetInput } from '../engine/service/index.ts';
import type { Handlers, Logger } from '../transport/dispatch.ts';
import * as adapt from './adapt.ts';
import { defaultFolderEnv, listFolders, type FolderEnv } from './folders.ts';
import { createRestoreBrowseHandlers, RESTORE_BROWSE_CHANNELS } from './restore-browse.ts';
import { createRestoreRunHandlers, RESTORE_RUN_CHANNELS, type DownloadTickets } from './restore-run.ts';
import type { TargetSecret } from './secrets.ts';
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
  'bulwark:targets.list',
  'bulwark:targets.add',
  'bulwark:targets.remove',
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
] as const;

export type ServiceChannel = (typeof SERVICE_CHANNELS)[number];
export type ServiceHandlers = Pick<Handlers, ServiceChannel>;

/** Objects lock padding of a repository created from the UI (as `bulwark init --lock-days`). */
const LOCK_PADDING_DAYS = 10;
/** Recorded runs returned by jobs.list unless asked otherwise. */
const DEFAULT_HISTORY = 20;

/** Drops the keys whose value is undefined (the engine's schemas are strict about unknown keys only). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function targetInput(req: ParsedRequestOf<'bulwark:targets.add'>): {
  input: TargetInput;
  secret: TargetSecret;
} {
  if (req.kind === 'fs') {
    return {
      input: defined({ name: req.name, location: req.path, kind: 'fs', bytesPerSecond: req.bytesPerSecond }),
      secret: { password: req.password },
    };
  }
  const prefix = (req.prefix ?? '').replace(/^\/+|\/+$/g, '');
  return {
    input: defined({
      name: req.name,
      location: `s3://${req.bucket}${prefix ? `/${prefix}` : ''}`,
      kind: 's3',
      endpoint: req.endpoint,
      region: req.region,
      bytesPerSecond: req.bytesPerSecond,
    }),
    secret:
      req.accessKeyId !== undefined && req.secretAccessKey !== undefined
        ? { password: req.password, accessKeyId: req.accessKeyId, secretAccessKey: req.secretAccessKey }
        : { password: req.password },
  };
}

export interface ServiceHandlerOptions {
  /** the computer the folder picker shows (tests: a temp home and mount folders) */
  folders?: FolderEnv;
  /** where restore.download keeps its one-time links (`bulwark serve`); absent: UNSUPPORTED (the app) */
  downloads?: DownloadTickets;
}

export function createServiceHandlers(
  service: BackupService,
  access: TargetAccess,
  opts: ServiceHandlerOptions = {},
): ServiceHandlers {
  const folderEnv = opts.folders ?? defaultFolderEnv();
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

    'bulwark:targets.list': () => ok({ targets: service.listTargets().map(adapt.target) }),

    'bulwark:targets.add': async (req) => {
      const { input, secret } = targetInput(req);
      const lock: LockPolicy | null =
        req.kind === 's3' && req.objectLock
          ? { mode: req.objectLock.mode, days: req.objectLock.days, paddingDays: LOCK_PADDING_DAYS }
          : null;
      // The target is opened (and its repository created if asked) with the secret given here; only once
      // that worked is the secret kept, under the new target's id.
      const t = await access.withPending(input.location, secret, () =>
        service.addTarget(input, { initialize: req.initialize ?? true, lock }),
      );
      try {
        access.secrets.set(t.id, secret);
      } catch (e) {
        service.removeTarget(t.id);
        throw e;
      }
      return ok({ target: adapt.target(t) });
    },

    'bulwark:targets.remove': ({ targetId }) => {
      service.removeTarget(targetId);
      access.secrets.delete(targetId);
      return ok({ targetId });
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

    ...createRestoreRunHandlers(service, opts.downloads ? { downloads: opts.downloads } : {}),
    ...createRestoreBrowseHandlers(service),
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
