import { createStore, type StoreApi } from 'zustand/vanilla';

import type { ResponseOf } from '../../../../src-main/contract/ipc.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import type { BulwarkClient } from '../../api/client.ts';

export type ServiceStatus = ResponseOf<'bulwark:service.status'>;
export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

/**
 * `service.status`: the overall answer at the top of every page (decided on the main side: the renderer
 * never makes it greener), the pause switch, the targets and the counts. Events do not carry the overall
 * answer, so the event subscriber asks for a reload (debounced) whenever something it depends on changed.
 */
export interface ServiceState {
  status: LoadStatus;
  value: ServiceStatus | undefined;
  error: ResultError | undefined;
  /** when `value` was received (ms since the epoch) */
  receivedAt: number | undefined;
}

export const initialState: ServiceState = {
  status: 'idle',
  value: undefined,
  error: undefined,
  receivedAt: undefined,
};

export interface ServiceActions {
  load(): Promise<void>;
  /** a reload soon, merged with the other requests of the next `delayMs` */
  reloadSoon(): void;
  reset(): void;
}

export type ServiceStore = ServiceState & ServiceActions;

export const serviceSelectors = {
  status: (s: ServiceStore) => s.status,
  error: (s: ServiceStore) => s.error,
  overall: (s: ServiceStore) => s.value?.overall,
  paused: (s: ServiceStore) => s.value?.paused,
  started: (s: ServiceStore) => s.value?.started,
  targets: (s: ServiceStore) => s.value?.targets,
  activeAlerts: (s: ServiceStore) => s.value?.activeAlerts,
  sourceCount: (s: ServiceStore) => s.value?.sources.length,
  runningJobs: (s: ServiceStore) => s.value?.jobs.running ?? 0,
  isInitialLoading: (s: ServiceStore) => s.status === 'loading' && s.value === undefined,
};

export interface ServiceStoreOptions {
  delayMs?: number;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
}

export function createServiceStore(
  getClient: () => BulwarkClient,
  options: ServiceStoreOptions = {},
): StoreApi<ServiceStore> {
  const delayMs = options.delayMs ?? 250;
  const now = options.now ?? Date.now;
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  let generation = 0;
  let timer: unknown;
  return createStore<ServiceStore>()((set, get) => ({
    ...initialState,

    async load() {
      const mine = ++generation;
      set({ status: 'loading' });
      const result = await getClient().call('bulwark:service.status', {});
      if (mine !== generation) return;
      if (result.ok) set({ status: 'ready', value: result.value, error: undefined, receivedAt: now() });
      else set({ status: 'error', error: result.error });
    },

    reloadSoon() {
      if (timer !== undefined) return;
      timer = setTimer(() => {
        timer = undefined;
        void get().load();
      }, delayMs);
    },

    reset() {
      generation++;
      set(initialState);
    },
  }));
}
