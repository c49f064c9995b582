import { useStore } from 'zustand';

import { getClient } from '../../api/index.ts';
import { createSourcesStore, type SourcesStore } from './store.ts';

export { sourcesSelectors } from './selectors.ts';
export type { SourcesStore } from './store.ts';

export const sourcesStore = createSourcesStore(getClient);

export function useSourcesStore<T>(selector: (state: SourcesStore) => T): T {
  return useStore(sourcesStore, selector);
}
