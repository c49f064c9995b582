import { createStore, type StoreApi } from 'zustand/vanilla';

import type { ResponseOf } from '../../../../src-main/contract/ipc.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import type { BulwarkClient } from '../../api/client.ts';

export type FolderListing = ResponseOf<'bulwark:fs.folders'>;

/**
 * The folder picker: folders of the computer the service runs on (`fs.folders`), starting from its usual
 * places (home, documents, drives, shares). One store per open picker.
 */
export interface FolderPickerState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  /** the folder shown; undefined: the list of places */
  path: string | undefined;
  parent: string | undefined;
  folders: FolderListing['folders'];
  places: FolderListing['places'];
  truncated: boolean;
  error: ResultError | undefined;
}

export const initialPickerState: FolderPickerState = {
  status: 'idle',
  path: undefined,
  parent: undefined,
  folders: [],
  places: [],
  truncated: false,
  error: undefined,
};

export interface FolderPickerActions {
  /** opens a folder (undefined: the places) */
  open(path?: string): Promise<void>;
}

export type FolderPickerStore = FolderPickerState & FolderPickerActions;

export function createFolderPickerStore(getClient: () => BulwarkClient): StoreApi<FolderPickerStore> {
  let generation = 0;
  return createStore<FolderPickerStore>()((set) => ({
    ...initialPickerState,
    async open(path) {
      const mine = ++generation;
      set({ status: 'loading', error: undefined });
      const result = await getClient().call('bulwark:fs.folders', path === undefined ? {} : { path });
      if (mine !== generation) return;
      if (result.ok)
        set((s) => ({
          status: 'ready',
          path: result.value.path ?? path,
          parent: result.value.parent,
          folders: result.value.folders,
          // the places come with every answer; keep the last non-empty list
          places: result.value.places.length > 0 ? result.value.places : s.places,
          truncated: result.value.truncated,
        }));
      else set({ status: 'error', error: result.error });
    },
  }));
}

/** The last part of a path, for a name: "/home/ann/Documents" → "Documents", "C:\\Users\\Ann" → "Ann". */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]+/).filter((p) => p !== '');
  return parts[parts.length - 1] ?? path;
}

/** A path the contract accepts as absolute (POSIX, a Windows drive, or a network share). */
export function isAbsolutePath(path: string): boolean {
  return /^(\/|[A-Za-z]:[\\/]|\\\\[^\\])/.test(path);
}
