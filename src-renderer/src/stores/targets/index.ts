import { useStore } from 'zustand';

import { getClient } from '../../api/index.ts';
import { createTargetsStore, type TargetsStore } from './store.ts';

export { targetsSelectors } from './store.ts';
export type { TargetsStore } from './store.ts';

export const targetsStore = createTargetsStore(getClient);

export function useTargetsStore<T>(selector: (state: TargetsStore) => T): T {
  return useStore(targetsStore, selector);
}
