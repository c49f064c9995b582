import { useStore } from 'zustand';

import { getClient } from '../../api/index.ts';
import { createSnapshotsStore, type SnapshotsStore } from './store.ts';

export { snapshotsSelectors } from './selectors.ts';
export type { SnapshotsStore } from './store.ts';

export const snapshotsStore = createSnapshotsStore(getClient);

/** Components read the store through a named selector: `useSnapshotsStore(snapshotsSelectors.items)`. */
export function useSnapshotsStore<T>(selector: (state: SnapshotsStore) => T): T {
  return useStore(snapshotsStore, selector);
}
