import { useStore } from 'zustand';

import { getClient } from '../../api/index.ts';
import { createRepositoryStore, type RepositoryStore } from './store.ts';

export { repositorySelectors } from './selectors.ts';
export type { RepositoryStore } from './store.ts';

export const repositoryStore = createRepositoryStore(getClient);

export function useRepositoryStore<T>(selector: (state: RepositoryStore) => T): T {
  return useStore(repositoryStore, selector);
}
