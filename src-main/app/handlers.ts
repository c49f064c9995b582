import { ok, err } from '../contract/result.ts';
import type { Handlers } from './ipc-router.ts';

export interface AppInfo {
  name: string;
  version: string;
  platform: string;
  versions: { node: string; electron?: string; chrome?: string };
}

const notWired = (what: string) =>
  err('UNSUPPORTED', `${what} is not available in the desktop app yet`, 'Use the `bulwark` command for now.');

/**
 * The handlers of the Electron app. For now only `app.version` answers; the repository channels return
 * UNSUPPORTED until the engine is wired in (a later issue replaces these stubs with calls into it).
 */
export function createHandlers(info: AppInfo): Handlers {
  return {
    'bulwark:app.version': () =>
      ok({
        name: info.name,
        version: info.version,
        platform: info.platform,
        runtime: { ...info.versions },
      }),
    'bulwark:repo.info': () => notWired('Repository information'),
    'bulwark:snapshots.list': () => notWired('The snapshot list'),
  };
}
