import { createStore, type StoreApi } from 'zustand/vanilla';

import type { RequestOf } from '../../../../src-main/contract/ipc.ts';
import type { SnapshotSummary } from '../../../../src-main/contract/model.ts';
import type { BulwarkClient } from '../../api/client.ts';
import { initialState, type SnapshotsState } from './initialState.ts';

export interface SnapshotsActions {
  /** (Re)loads the list. A newer load or a reset makes the answer of an older one be ignored. */
  load(request?: RequestOf<'bulwark:snapshots.list'>): Promise<void>;
  reset(): void;
}

export type SnapshotsStore = SnapshotsState & SnapshotsActions;

const newestFirst = (a: SnapshotSummary, b: SnapshotSummary): number =>
  Date.parse(b.time) - Date.parse(a.time);

export function createSnapshotsStore(getClient: () => BulwarkClient): StoreApi<SnapshotsStore> {
  let generation = 0;
  return createStore<SnapshotsStore>()((set) => ({
    ...initialState,

    async load(request = {}) {
      const mine = ++generation;
      set({ status: 'loading', error: undefined });
      const result = await getClient().call('bulwark:snapshots.list', request);
      if (mine !== generation) return;
      if (result.ok) set({ status: 'ready', items: [...result.value.snapshots].sort(newestFirst) });
      else set({ status: 'error', error: result.error });
    },

    reset() {
      generation++;
      set(initialState);
    },
  }));
}
