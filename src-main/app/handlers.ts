import { channelNames, type ChannelName } from '../contract/ipc.ts';
import { err, ok, type Result } from '../contract/result.ts';
import type { Handlers } from './ipc-router.ts';

export interface AppInfo {
  name: string;
  version: string;
  platform: string;
  versions: { node: string; electron?: string; chrome?: string };
}

/** Sends a contract request to the backup-service process and resolves to its answer (service/relay.ts). */
export type RelayCall = (channel: ChannelName, request: unknown) => Promise<Result<unknown>>;

/**
 * The handlers of the Electron app. The main process answers what only it can (the app's version with
 * Electron's, the native folder dialog) and relays every other channel, as it came, to the backup-service
 * process, which answers with the same handlers `bulwark serve` uses (src-main/host) through the same
 * dispatch core; a channel the service has no handler for (repo.info, snapshots.list, restore.download)
 * answers UNSUPPORTED from there. Tests (and a shell without a service process) may pass the service's
 * handlers themselves instead of a relay; without either, every other channel answers UNSUPPORTED.
 */
export function createHandlers(
  info: AppInfo,
  service?: RelayCall | Partial<Handlers>,
  local: Pick<Partial<Handlers>, 'bulwark:fs.pickFolder'> = {},
): Handlers {
  const relay = typeof service === 'function' ? service : undefined;
  const inProcess = typeof service === 'object' ? service : {};
  const own: Partial<Handlers> = {
    'bulwark:app.version': () =>
      ok({
        name: info.name,
        version: info.version,
        platform: info.platform,
        runtime: { ...info.versions },
      }),
    ...inProcess,
    ...local,
  };
  const all: Record<string, unknown> = {};
  for (const channel of channelNames)
    all[channel] =
      own[channel] ??
      (relay
        ? (request: unknown) => relay(channel, request)
        : () => err('UNSUPPORTED', `${channel} is not available in the desktop app yet`));
  return all as Handlers;
}
