import { createStore, type StoreApi } from 'zustand/vanilla';

import type { Target } from '../../../../src-main/contract/model.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import type { BulwarkClient } from '../../api/client.ts';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

/** `targets.list`: where backups are kept. (Adding one is the target wizard's, built later.) */
export interface TargetsState {
  status: LoadStatus;
  items: readonly Target[];
  error: ResultError | undefined;
}

export const initialState: TargetsState = { status: 'idle', items: [], error: undefined };

export interface TargetsActions {
  load(): Promise<void>;
  reset(): void;
}

export type TargetsStore = TargetsState & TargetsActions;

export const targetsSelectors = {
  status: (s: TargetsStore) => s.status,
  items: (s: TargetsStore) => s.items,
  error: (s: TargetsStore) => s.error,
  count: (s: TargetsStore) => s.items.length,
  isInitialLoading: (s: TargetsStore) => s.status === 'loading' && s.items.length === 0,
  isEmpty: (s: TargetsStore) => s.status === 'ready' && s.items.length === 0,
  target: (targetId: string | undefined) => (s: TargetsStore) =>
    targetId === undefined ? undefined : s.items.find((t) => t.id === targetId),
};

export function createTargetsStore(getClient: () => BulwarkClient): StoreApi<TargetsStore> {
  let generation = 0;
  return createStore<TargetsStore>()((set) => ({
    ...initialState,
    async load() {
      const mine = ++generation;
      set({ status: 'loading' });
      const result = await getClient().call('bulwark:targets.list', {});
      if (mine !== generation) return;
      // the built-in target first, then the others by name
      if (result.ok)
        set({
          status: 'ready',
          error: undefined,
          items: [...result.value.targets].sort(
            (a, b) => Number(b.isDefault) - Number(a.isDefault) || a.name.localeCompare(b.name),
          ),
        });
      else set({ status: 'error', error: result.error });
    },
    reset() {
      generation++;
      set(initialState);
    },
  }));
}
