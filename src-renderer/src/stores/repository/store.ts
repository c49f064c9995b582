import { createStore, type StoreApi } from 'zustand/vanilla';

import type { BulwarkClient } from '../../api/client.ts';
import { initialState, type RepositoryState } from './initialState.ts';

export interface RepositoryActions {
  load(): Promise<void>;
  reset(): void;
}

export type RepositoryStore = RepositoryState & RepositoryActions;

export function createRepositoryStore(getClient: () => BulwarkClient): StoreApi<RepositoryStore> {
  let generation = 0;
  return createStore<RepositoryStore>()((set) => ({
    ...initialState,

    async load() {
      const mine = ++generation;
      set({ status: 'loading', error: undefined });
      const result = await getClient().call('bulwark:repo.info', {});
      if (mine !== generation) return;
      if (result.ok) set({ status: 'ready', info: result.value });
      else set({ status: 'error', info: undefined, error: result.error });
    },

    reset() {
      generation++;
      set(initialState);
    },
  }));
}
