import { useStore } from 'zustand';

import { getClient } from '../../api/index.ts';
import { createNotificationsStore, type NotificationsStore } from './store.ts';

export { notificationsSelectors } from './store.ts';
export type { NotificationsStore, NotificationsUpdate, TestChannel, TestResult } from './store.ts';

export const notificationsStore = createNotificationsStore(getClient);

export function useNotificationsStore<T>(selector: (state: NotificationsStore) => T): T {
  return useStore(notificationsStore, selector);
}
