import { createStore, type StoreApi } from 'zustand/vanilla';

import type { FileVersion, FindResult } from '../../../../src-main/contract/model.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import type { BulwarkClient } from '../../api/client.ts';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

/** One file across the snapshots of one source. */
export const fileKey = (sourceId: string, path: string): string => `${sourceId}\u0000${path}`;

export interface VersionsState {
  status: LoadStatus;
  items: readonly FileVersion[];
  error: ResultError | undefined;
}

/**
 * "Find a file": `restore.find` over every snapshot of every source; each result is one file with its
 * versions. Results are shown newest first (by when their newest version appeared); opening one loads its
 * complete version timeline with `restore.versions`.
 */
export interface FindState {
  /** the query of the results shown (or being loaded) */
  query: string;
  status: LoadStatus;
  results: readonly FindResult[];
  /** more files matched than were sent */
  truncated: boolean;
  error: ResultError | undefined;
  versions: Readonly<Record<string, VersionsState>>;
}

export const initialFindState: FindState = {
  query: '',
  status: 'idle',
  results: [],
  truncated: false,
  error: undefined,
  versions: {},
};

export interface FindActions {
  /** searches (an empty query clears); a newer search makes an older answer be ignored */
  search(query: string): Promise<void>;
  loadVersions(sourceId: string, path: string): Promise<void>;
  clear(): void;
}

export type FindStore = FindState & FindActions;

/** how many files one search asks for */
export const FIND_LIMIT = 200;

/** when the newest version of a file appeared (ms), for sorting; deleted files count their last sighting */
export function newestTime(result: FindResult): number {
  const v = result.versions[0];
  if (!v) return 0;
  return Math.max(Date.parse(v.firstSeen) || 0, Date.parse(v.lastSeen ?? '') || 0);
}

export function sortNewestFirst(results: readonly FindResult[]): FindResult[] {
  return [...results].sort((a, b) => newestTime(b) - newestTime(a) || a.path.localeCompare(b.path));
}

export const findSelectors = {
  query: (s: FindStore) => s.query,
  status: (s: FindStore) => s.status,
  results: (s: FindStore) => s.results,
  truncated: (s: FindStore) => s.truncated,
  error: (s: FindStore) => s.error,
  count: (s: FindStore) => s.results.length,
  isEmpty: (s: FindStore) => s.status === 'ready' && s.results.length === 0,
  versions: (sourceId: string, path: string) => (s: FindStore) => s.versions[fileKey(sourceId, path)],
};

export function createFindStore(getClient: () => BulwarkClient): StoreApi<FindStore> {
  let generation = 0;
  return createStore<FindStore>()((set) => ({
    ...initialFindState,

    async search(raw) {
      const query = raw.trim();
      const mine = ++generation;
      if (query === '') {
        set(initialFindState);
        return;
      }
      set({ query, status: 'loading', error: undefined });
      const result = await getClient().call('bulwark:restore.find', { query, limit: FIND_LIMIT });
      if (mine !== generation) return;
      if (result.ok)
        set({
          status: 'ready',
          results: sortNewestFirst(result.value.results),
          truncated: result.value.truncated,
          versions: {},
        });
      else set({ status: 'error', error: result.error, results: [], truncated: false });
    },

    async loadVersions(sourceId, path) {
      const key = fileKey(sourceId, path);
      const mine = generation;
      set((s) => ({
        versions: {
          ...s.versions,
          [key]: { status: 'loading', items: s.versions[key]?.items ?? [], error: undefined },
        },
      }));
      const result = await getClient().call('bulwark:restore.versions', { sourceId, path });
      if (mine !== generation) return;
      set((s) => ({
        versions: {
          ...s.versions,
          [key]: result.ok
            ? { status: 'ready', items: result.value.versions, error: undefined }
            : { status: 'error', items: s.versions[key]?.items ?? [], error: result.error },
        },
      }));
    },

    clear() {
      generation++;
      set(initialFindState);
    },
  }));
}
