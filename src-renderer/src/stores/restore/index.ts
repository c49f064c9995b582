import { useStore } from 'zustand';

import { getClient } from '../../api/index.ts';
import { createBrowseSelectors, createBrowseStore, type BrowseStore } from './browse.ts';
import { createFindStore, type FindStore } from './find.ts';
import { createFlowStore, type FlowStore } from './flow.ts';
import { createPreviewStore, type PreviewStore } from './preview.ts';

export { breadcrumbs, parentOf } from './browse.ts';
export { fileKey, findSelectors } from './find.ts';
export { flowSelectors } from './flow.ts';
export { sameFile } from './preview.ts';
export type { FileRef } from './preview.ts';
export type { RestoreRequest } from './flow.ts';

export const BROWSE_PAGE_SIZE = 200;

export const findStore = createFindStore(getClient);
export const browseStore = createBrowseStore(getClient, { pageSize: BROWSE_PAGE_SIZE });
export const browseSelectors = createBrowseSelectors(BROWSE_PAGE_SIZE);
export const previewStore = createPreviewStore(getClient);
export const flowStore = createFlowStore(getClient);

export const useFindStore = <T>(selector: (s: FindStore) => T): T => useStore(findStore, selector);
export const useBrowseStore = <T>(selector: (s: BrowseStore) => T): T => useStore(browseStore, selector);
export const usePreviewStore = <T>(selector: (s: PreviewStore) => T): T => useStore(previewStore, selector);
export const useFlowStore = <T>(selector: (s: FlowStore) => T): T => useStore(flowStore, selector);
