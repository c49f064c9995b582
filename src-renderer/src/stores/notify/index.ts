import { useStore } from 'zustand';

import { createNotifyStore, type NotifyStore } from './store.ts';

export { notifySelectors } from './store.ts';
export type { NotifyStore, Toast, ToastTone } from './store.ts';

export const notifyStore = createNotifyStore();

export function useNotifyStore<T>(selector: (state: NotifyStore) => T): T {
  return useStore(notifyStore, selector);
}
