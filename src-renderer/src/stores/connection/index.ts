import { useStore } from 'zustand';

import { createConnectionStore, type ConnectionStore } from './store.ts';

export { connectionSelectors } from './store.ts';
export type { ConnectionStore, LinkStatus } from './store.ts';

export const connectionStore = createConnectionStore();

export function useConnectionStore<T>(selector: (state: ConnectionStore) => T): T {
  return useStore(connectionStore, selector);
}
