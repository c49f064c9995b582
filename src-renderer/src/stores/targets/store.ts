import { createStore, type StoreApi } from 'zustand/vanilla';

import type { RequestOf } from '../../../../src-main/contract/ipc.ts';
import type { Target } from '../../../../src-main/contract/model.ts';
import type { Result, ResultError } from '../../../../src-main/contract/result.ts';
import type { TargetTestResult } from '../../../../src-main/contract/target-test.ts';
import type { BulwarkClient } from '../../api/client.ts';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

/** `targets.list`: where backups are kept; `targets.test` and `targets.add` for the "Add target" wizard. */
export interface TargetsState {
  status: LoadStatus;
  items: readonly Target[];
  error: ResultError | undefined;
}

export const initialState: TargetsState = { status: 'idle', items: [], error: undefined };

export interface TargetsActions {
  load(): Promise<void>;
  /** the self-test (nothing is saved for a location; a saved target keeps its result: the list reloads) */
  test(request: RequestOf<'bulwark:targets.test'>): Promise<Result<TargetTestResult>>;
  /** saves a target (a new or existing repository), then reloads the list */
  add(request: RequestOf<'bulwark:targets.add'>): Promise<Result<Target>>;
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
  return createStore<TargetsStore>()((set, get) => ({
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
    async test(request) {
      const result = await getClient().call('bulwark:targets.test', request);
      if ('targetId' in request) void get().load();
      return result.ok ? { ok: true, value: result.value.result } : result;
    },
    async add(request) {
      const result = await getClient().call('bulwark:targets.add', request);
      if (result.ok) void get().load();
      return result.ok ? { ok: true, value: result.value.target } : result;
    },
    reset() {
      generation++;
      set(initialState);
    },
  }));
}
