import { createStore, type StoreApi } from 'zustand/vanilla';

import type { ResponseOf } from '../../../../src-main/contract/ipc.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import type { BulwarkClient, TransportName } from '../../api/client.ts';

export type AppVersion = ResponseOf<'bulwark:app.version'>;

export interface AppState {
  transport: TransportName | undefined;
  version: AppVersion | undefined;
  error: ResultError | undefined;
}

export const initialState: AppState = { transport: undefined, version: undefined, error: undefined };

export interface AppActions {
  load(): Promise<void>;
}

export type AppStore = AppState & AppActions;

export const appSelectors = {
  transport: (s: AppStore) => s.transport,
  version: (s: AppStore) => s.version,
  error: (s: AppStore) => s.error,
  /** the product name (known before the main side answers) */
  name: (s: AppStore) => s.version?.name ?? 'Bulwark',
  /** `bulwark serve` refused this browser tab: no or a wrong access token */
  isUnauthorized: (s: AppStore) => s.transport === 'http' && s.error?.code === 'PERMISSION',
  /** "v1.2.3", or undefined until the main side answered */
  versionLabel: (s: AppStore) => (s.version ? `v${s.version.version}` : undefined),
};

export function createAppStore(getClient: () => BulwarkClient): StoreApi<AppStore> {
  return createStore<AppStore>()((set) => ({
    ...initialState,
    async load() {
      const client = getClient();
      set({ transport: client.transport });
      const result = await client.call('bulwark:app.version', {});
      if (result.ok) set({ version: result.value, error: undefined });
      else set({ error: result.error });
    },
  }));
}
