import type { SourcesStore } from './store.ts';

// Selectors return state fields or primitives (never a new array/object per call), so components that
// use them re-render only when that value changes.
export const sourcesSelectors = {
  status: (s: SourcesStore) => s.status,
  items: (s: SourcesStore) => s.items,
  error: (s: SourcesStore) => s.error,
  count: (s: SourcesStore) => s.items.length,
  isInitialLoading: (s: SourcesStore) => s.status === 'loading' && s.items.length === 0,
  /** loaded, and no folder is configured */
  isEmpty: (s: SourcesStore) => s.status === 'ready' && s.items.length === 0,
  source: (sourceId: string) => (s: SourcesStore) => s.items.find((x) => x.id === sourceId),
  /** a source's name, for job and alert lines (undefined: unknown or removed) */
  nameOf: (sourceId: string | undefined) => (s: SourcesStore) =>
    sourceId === undefined ? undefined : s.items.find((x) => x.id === sourceId)?.name,
  protectedCount: (s: SourcesStore) => s.items.filter((x) => x.enabled && x.protected).length,
  unprotectedCount: (s: SourcesStore) => s.items.filter((x) => x.enabled && x.rpoState === 'missed').length,
  adding: (s: SourcesStore) => s.adding,
  addError: (s: SourcesStore) => s.addError,
  busy: (sourceId: string) => (s: SourcesStore) => s.busy[sourceId],
  actionError: (sourceId: string) => (s: SourcesStore) => s.actionErrors[sourceId],
};
