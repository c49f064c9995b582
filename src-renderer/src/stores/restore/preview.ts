import { createStore, type StoreApi } from 'zustand/vanilla';

import type { ResponseOf } from '../../../../src-main/contract/ipc.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import type { BulwarkClient } from '../../api/client.ts';

export type Preview = ResponseOf<'bulwark:restore.preview'>;

/** A file of a snapshot: what the preview pane and a download ask for. */
export interface FileRef {
  sourceId: string;
  snapshotId: string;
  path: string;
  name: string;
}

export interface PreviewState {
  target: FileRef | undefined;
  status: 'idle' | 'loading' | 'ready' | 'error';
  value: Preview | undefined;
  error: ResultError | undefined;
}

export const initialPreviewState: PreviewState = {
  target: undefined,
  status: 'idle',
  value: undefined,
  error: undefined,
};

export interface PreviewActions {
  open(target: FileRef): Promise<void>;
  close(): void;
  /** a one-time link that downloads the file through the service (browser only) */
  download(target: FileRef): Promise<{ url: string; name: string } | ResultError>;
}

export type PreviewStore = PreviewState & PreviewActions;

export const sameFile = (a: FileRef | undefined, b: FileRef | undefined): boolean =>
  a !== undefined &&
  b !== undefined &&
  a.sourceId === b.sourceId &&
  a.snapshotId === b.snapshotId &&
  a.path === b.path;

export function createPreviewStore(getClient: () => BulwarkClient): StoreApi<PreviewStore> {
  let generation = 0;
  return createStore<PreviewStore>()((set) => ({
    ...initialPreviewState,
    async open(target) {
      const mine = ++generation;
      set({ target, status: 'loading', value: undefined, error: undefined });
      const { sourceId, snapshotId, path } = target;
      const result = await getClient().call('bulwark:restore.preview', { sourceId, snapshotId, path });
      if (mine !== generation) return;
      if (result.ok) set({ status: 'ready', value: result.value });
      else set({ status: 'error', error: result.error });
    },
    close() {
      generation++;
      set(initialPreviewState);
    },
    async download({ sourceId, snapshotId, path }) {
      const result = await getClient().call('bulwark:restore.download', { sourceId, snapshotId, path });
      return result.ok ? { url: result.value.url, name: result.value.name } : result.error;
    },
  }));
}
