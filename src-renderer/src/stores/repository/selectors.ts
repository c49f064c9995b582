import type { RepositoryStore } from './store.ts';

export const repositorySelectors = {
  status: (s: RepositoryStore) => s.status,
  info: (s: RepositoryStore) => s.info,
  error: (s: RepositoryStore) => s.error,
  /** no repository is configured yet: the UI offers to create or connect one rather than an error */
  isNotConfigured: (s: RepositoryStore) => s.status === 'error' && s.error?.code === 'REPO_NOT_FOUND',
  isImmutable: (s: RepositoryStore) => s.info !== undefined && s.info.immutability.mode !== 'none',
};
