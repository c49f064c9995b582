import { channelNames, type ChannelName } from '../contract/ipc.ts';
import { ok, err } from '../contract/result.ts';
import type { ServiceHandlers } from '../host/handlers.ts';
import type { Handlers } from './ipc-router.ts';

export interface AppInfo {
  name: string;
  version: string;
  platform: string;
  versions: { node: string; electron?: string; chrome?: string };
}

const notWired = (channel: ChannelName) =>
  err(
    'UNSUPPORTED',
    `${channel} is not available in the desktop app yet`,
    'Use the `bulwark` command for now.',
  );

/**
 * The handlers of the Electron app. The service channels (sources, targets, jobs, alerts) come from the
 * same factory `bulwark serve` uses (src-main/host: the hosted BackupService), when the shell passes one;
 * the repository channels (repo.info, snapshots.list) still answer UNSUPPORTED here, as does every channel
 * without a handler.
 */
export function createHandlers(info: AppInfo, service?: ServiceHandlers): Handlers {
  const handlers: Partial<Handlers> = {
    'bulwark:app.version': () =>
      ok({
        name: info.name,
        version: info.version,
        platform: info.platform,
        runtime: { ...info.versions },
      }),
    ...service,
  };
  const all: Record<string, unknown> = {};
  for (const channel of channelNames) all[channel] = handlers[channel] ?? (() => notWired(channel));
  return all as Handlers;
}
