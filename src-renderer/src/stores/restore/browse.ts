import { createStore, type StoreApi } from 'zustand/vanilla';

import type { SnapshotEntry, SnapshotSummary } from '../../../../src-main/contract/model.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import type { BulwarkClient } from '../../api/client.ts';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

/**
 * "Browse a point in time": pick a source, one of its snapshots, then walk its folders. A folder is read
 * a page at a time (`restore.browse` with offset/limit) as the virtual list scrolls, so a folder of
 * 100 000 entries costs a few pages, not 100 000 rows. Pages far from what is on screen are dropped.
 */
export interface FolderState {
  /** relative to the snapshot root; '' is the root */
  path: string;
  /** of the first page: until it is here the total is unknown */
  status: LoadStatus;
  total: number;
  pages: Readonly<Record<number, readonly SnapshotEntry[]>>;
  loading: Readonly<Record<number, true>>;
  pageErrors: Readonly<Record<number, ResultError>>;
  /** the folder's listing could not be read: why, in plain words (from the service) */
  damaged: string | undefined;
  error: ResultError | undefined;
}

export interface BrowseState {
  sourceId: string | undefined;
  snapshots: { status: LoadStatus; items: readonly SnapshotSummary[]; error: ResultError | undefined };
  snapshotId: string | undefined;
  folder: FolderState;
  /** chosen entries of the folder shown, by path */
  selected: Readonly<Record<string, SnapshotEntry>>;
}

const emptyFolder = (path: string): FolderState => ({
  path,
  status: 'idle',
  total: 0,
  pages: {},
  loading: {},
  pageErrors: {},
  damaged: undefined,
  error: undefined,
});

export const initialBrowseState: BrowseState = {
  sourceId: undefined,
  snapshots: { status: 'idle', items: [], error: undefined },
  snapshotId: undefined,
  folder: emptyFolder(''),
  selected: {},
};

export interface BrowseActions {
  chooseSource(sourceId: string): Promise<void>;
  reloadSnapshots(): Promise<void>;
  chooseSnapshot(snapshotId: string): Promise<void>;
  /** opens a folder of the chosen snapshot ('' = its root); the selection is cleared */
  open(path: string): Promise<void>;
  /** makes sure the entries first..last (inclusive) are loaded or on their way */
  ensureRange(first: number, last: number): void;
  retryPage(page: number): Promise<void>;
  toggle(entry: SnapshotEntry): void;
  /** selects or clears every entry loaded so far */
  setAllLoaded(selected: boolean): void;
  clearSelection(): void;
  reset(): void;
}

export type BrowseStore = BrowseState & BrowseActions;

export interface BrowseOptions {
  /** entries per `restore.browse` call (the contract allows up to 1 000) */
  pageSize?: number;
  /** pages kept in memory before the farthest ones are dropped */
  maxPages?: number;
}

/** The parts of a folder path, for breadcrumbs: '' → [], 'a/b' → [{a, 'a'}, {b, 'a/b'}] */
export function breadcrumbs(path: string): { name: string; path: string }[] {
  const parts = path.split('/').filter((p) => p !== '');
  return parts.map((name, i) => ({ name, path: parts.slice(0, i + 1).join('/') }));
}

export const parentOf = (path: string): string => path.split('/').filter(Boolean).slice(0, -1).join('/');

export function createBrowseStore(
  getClient: () => BulwarkClient,
  options: BrowseOptions = {},
): StoreApi<BrowseStore> {
  const pageSize = options.pageSize ?? 200;
  const maxPages = options.maxPages ?? 40;
  let snapshotsGen = 0;
  let folderGen = 0;

  return createStore<BrowseStore>()((set, get) => {
    async function loadPage(page: number): Promise<void> {
      const { sourceId, snapshotId, folder } = get();
      if (sourceId === undefined || snapshotId === undefined) return;
      const mine = folderGen;
      set((s) => ({ folder: { ...s.folder, loading: { ...s.folder.loading, [page]: true } } }));
      const result = await getClient().call('bulwark:restore.browse', {
        sourceId,
        snapshotId,
        path: folder.path,
        offset: page * pageSize,
        limit: pageSize,
      });
      if (mine !== folderGen) return;
      set((s) => {
        const { [page]: _done, ...loading } = s.folder.loading;
        if (!result.ok) {
          return {
            folder: {
              ...s.folder,
              loading,
              status: page === 0 && s.folder.status !== 'ready' ? 'error' : s.folder.status,
              error: page === 0 && s.folder.status !== 'ready' ? result.error : s.folder.error,
              pageErrors: { ...s.folder.pageErrors, [page]: result.error },
            },
          };
        }
        const { [page]: _fixed, ...pageErrors } = s.folder.pageErrors;
        let pages: Record<number, readonly SnapshotEntry[]> = {
          ...s.folder.pages,
          [page]: result.value.entries,
        };
        const keys = Object.keys(pages).map(Number);
        if (keys.length > maxPages) {
          // drop the pages farthest from this one
          const far = keys
            .sort((a, b) => Math.abs(b - page) - Math.abs(a - page))
            .slice(0, keys.length - maxPages);
          pages = Object.fromEntries(Object.entries(pages).filter(([k]) => !far.includes(Number(k))));
        }
        return {
          folder: {
            ...s.folder,
            status: 'ready',
            total: result.value.total,
            damaged: result.value.damaged,
            error: undefined,
            pages,
            loading,
            pageErrors,
          },
        };
      });
    }

    return {
      ...initialBrowseState,

      async chooseSource(sourceId) {
        folderGen++;
        set({
          sourceId,
          snapshotId: undefined,
          folder: emptyFolder(''),
          selected: {},
          snapshots: { status: 'idle', items: [], error: undefined },
        });
        await get().reloadSnapshots();
      },

      async reloadSnapshots() {
        const sourceId = get().sourceId;
        if (sourceId === undefined) return;
        const mine = ++snapshotsGen;
        set((s) => ({ snapshots: { ...s.snapshots, status: 'loading', error: undefined } }));
        const result = await getClient().call('bulwark:snapshots.list', { sourceId });
        if (mine !== snapshotsGen || get().sourceId !== sourceId) return;
        set({
          snapshots: result.ok
            ? {
                status: 'ready',
                items: [...result.value.snapshots].sort((a, b) => Date.parse(b.time) - Date.parse(a.time)),
                error: undefined,
              }
            : { status: 'error', items: [], error: result.error },
        });
      },

      async chooseSnapshot(snapshotId) {
        set({ snapshotId });
        await get().open('');
      },

      async open(path) {
        folderGen++;
        set({ folder: { ...emptyFolder(path), status: 'loading' }, selected: {} });
        await loadPage(0);
      },

      ensureRange(first, last) {
        const { folder } = get();
        if (folder.status !== 'ready' || folder.total === 0) return;
        const from = Math.max(0, Math.floor(first / pageSize));
        const to = Math.min(
          Math.floor((folder.total - 1) / pageSize),
          Math.floor(Math.max(first, last) / pageSize),
        );
        for (let page = from; page <= to; page++) {
          if (folder.pages[page] || folder.loading[page] || folder.pageErrors[page]) continue;
          void loadPage(page);
        }
      },

      async retryPage(page) {
        set((s) => {
          const { [page]: _dropped, ...pageErrors } = s.folder.pageErrors;
          return { folder: { ...s.folder, pageErrors } };
        });
        if (page === 0 && get().folder.status === 'error') {
          await get().open(get().folder.path);
          return;
        }
        await loadPage(page);
      },

      toggle(entry) {
        set((s) => {
          if (s.selected[entry.path]) {
            const { [entry.path]: _gone, ...selected } = s.selected;
            return { selected };
          }
          return { selected: { ...s.selected, [entry.path]: entry } };
        });
      },

      setAllLoaded(selected) {
        if (!selected) {
          set({ selected: {} });
          return;
        }
        const all: Record<string, SnapshotEntry> = {};
        for (const page of Object.values(get().folder.pages)) for (const e of page) all[e.path] = e;
        set({ selected: all });
      },

      clearSelection() {
        set({ selected: {} });
      },

      reset() {
        folderGen++;
        snapshotsGen++;
        set(initialBrowseState);
      },
    };
  });
}

export function createBrowseSelectors(pageSize = 200) {
  return {
    entryAt: (index: number) => (s: BrowseStore) =>
      s.folder.pages[Math.floor(index / pageSize)]?.[index % pageSize],
    total: (s: BrowseStore) => s.folder.total,
    selectedCount: (s: BrowseStore) => Object.keys(s.selected).length,
    isSelected: (path: string) => (s: BrowseStore) => s.selected[path] !== undefined,
    snapshot: (s: BrowseStore) => s.snapshots.items.find((x) => x.id === s.snapshotId),
  };
}
