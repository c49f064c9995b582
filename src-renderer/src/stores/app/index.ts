import { useStore } from 'zustand';

import { getClient } from '../../api/index.ts';
import { createAppStore, type AppStore } from './store.ts';

export { appSelectors } from './store.ts';
export type { AppStore } from './store.ts';

export const appStore = createAppStore(getClient);

export function useAppStore<T>(selector: (state: AppStore) => T): T {
  return useStore(appStore, selector);
}
