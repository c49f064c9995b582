import { useStore } from 'zustand';

import { getClient } from '../../api/index.ts';
import { createAlertsStore, type AlertsStore } from './store.ts';

export { alertsSelectors } from './store.ts';
export type { AlertsStore } from './store.ts';

export const alertsStore = createAlertsStore(getClient);

export function useAlertsStore<T>(selector: (state: AlertsStore) => T): T {
  return useStore(alertsStore, selector);
}
