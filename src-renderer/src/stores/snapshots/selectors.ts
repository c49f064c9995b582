import type { SnapshotsStore } from './store.ts';

// Selectors return state fields or primitives (never a new array/object per call), so components that
// use them re-render only when that value changes.
export const snapshotsSelectors = {
  status: (s: SnapshotsStore) => s.status,
  items: (s: SnapshotsStore) => s.items,
  error: (s: SnapshotsStore) => s.error,
  count: (s: SnapshotsStore) => s.items.length,
  /** the first load is running and nothing is shown yet */
  isInitialLoading: (s: SnapshotsStore) => s.status === 'loading' && s.items.length === 0,
  /** loaded, and the repository has no snapshot */
  isEmpty: (s: SnapshotsStore) => s.status === 'ready' && s.items.length === 0,
  latest: (s: SnapshotsStore) => s.items[0],
  totalBytesAdded: (s: SnapshotsStore) => s.items.reduce((sum, snap) => sum + snap.stats.bytesAdded, 0),
};
