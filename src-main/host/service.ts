import { systemClock, type Clock, type InitOptions, type LocalPaths } from '../engine/index.ts';
import {
  createBackupService,
  type BackupService,
  type BackupServiceOptions,
  type Target,
} from '../engine/service/index.ts';
import type { Logger } from '../transport/dispatch.ts';
import { createEventHub, type EventSource } from '../transport/events.ts';
import { createServiceHandlers, forwardServiceEvents, type ServiceHandlers } from './handlers.ts';
import type { FolderEnv } from './folders.ts';
import { fileSecretStore, targetSecretsDir, type TargetSecretStore } from './secrets.ts';
import { DownloadTickets } from './restore-run.ts';
import { createTargetAccess } from './targets.ts';

/**
 * The backup service as a host (`bulwark serve`, the Electron shell) runs it: the engine's BackupService on
 * the local folders, target secrets kept outside the catalog, the contract handlers of the service channels,
 * and its events as contract events. The host adds only its transport.
 */

export interface HostedServiceOptions {
  /** the local folders (localPaths(env): BULWARK_HOME, else the platform's usual places) */
  paths: LocalPaths;
  /** default: one 0600 file per target in <config>/target-secrets */
  secrets?: TargetSecretStore;
  /** scrypt cost of repositories created here (BULWARK_KDF_N in tests) */
  kdf?: InitOptions['kdf'];
  clock?: Clock;
  /** tuning passed on to the service (tests: fake watchers, timers, a short stop timeout) */
  tuning?: Omit<BackupServiceOptions, 'home' | 'paths' | 'passwordFor' | 'storeFor' | 'kdf' | 'clock'>;
  log?: Logger;
  /** what the folder picker (fs.folders) shows: default, this computer's home, disks and shares */
  folders?: FolderEnv;
  /**
   * One-time download links (restore.download) for a host with an HTTP server (`bulwark serve`), which
   * serves `downloads` from its `/download/` route; without it (the Electron app) restore.download answers
   * UNSUPPORTED.
   */
  downloads?: boolean;
}

export interface HostedService {
  readonly service: BackupService;
  readonly handlers: ServiceHandlers;
  /** contract events, for the transport to push */
  readonly events: EventSource;
  /** what the HTTP server's `/download/<ticket>` route serves (only with `downloads: true`) */
  readonly downloads: DownloadTickets | undefined;
  /**
   * Makes sure there is somewhere to back up to: with no target configured (the first start) the embedded
   * default repository in the data folder is created and configured, so the service works with no cloud.
   * Resolves to the problem it met, if any (the service still runs; the UI can add another target).
   */
  prepare(): Promise<{ defaultTarget?: Target; problem?: unknown }>;
  /** prepare(), then the watchers and the scheduler (sources never backed up are queued at once) */
  start(): Promise<{ problem?: unknown }>;
  /** the name of a configured source (snapshot lists show it instead of the internal key) */
  sourceName(sourceId: string): string | undefined;
  /** Graceful stop: a running backup is canceled (recorded interrupted, resumed by the next start). */
  stop(): Promise<void>;
}

export function openHostedService(o: HostedServiceOptions): HostedService {
  const log = o.log ?? (() => {});
  const access = createTargetAccess(o.secrets ?? fileSecretStore(targetSecretsDir(o.paths)), o.clock);
  const service = createBackupService({
    ...o.tuning,
    paths: o.paths,
    passwordFor: (t) => access.passwordFor(t),
    storeFor: (t) => access.storeFor(t),
    ...(o.kdf ? { kdf: o.kdf } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
  });
  const hub = createEventHub();
  const downloads = o.downloads ? new DownloadTickets(service, o.clock ?? systemClock) : undefined;
  const stopForwarding = forwardServiceEvents(service, (event, payload) => hub.emit(event, payload), log);
  let prepared: Promise<{ defaultTarget?: Target; problem?: unknown }> | undefined;
  let stopping: Promise<void> | undefined;

  const prepare = (): Promise<{ defaultTarget?: Target; problem?: unknown }> =>
    (prepared ??= (async () => {
      if (service.listTargets().length > 0) return {};
      try {
        return { defaultTarget: await service.ensureDefaultTarget() };
      } catch (e) {
        return { problem: e };
      }
    })());

  return {
    service,
    handlers: createServiceHandlers(service, access, {
      ...(o.folders ? { folders: o.folders } : {}),
      ...(downloads ? { downloads } : {}),
      ...(o.clock ? { clock: o.clock } : {}),
    }),
    events: hub,
    downloads,
    prepare,
    async start() {
      const { problem } = await prepare();
      await service.start();
      return problem === undefined ? {} : { problem };
    },
    sourceName: (sourceId) => {
      try {
        return service.config.findSource(sourceId)?.name;
      } catch {
        return undefined; // the catalog is closed (stopping)
      }
    },
    stop: () =>
      (stopping ??= (async () => {
        try {
          await service.stop();
        } finally {
          stopForwarding();
        }
      })()),
  };
}
