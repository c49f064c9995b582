import { useStore } from 'zustand';

import { getClient } from '../../api/index.ts';
import { createServiceStore, type ServiceStore } from './store.ts';

export { serviceSelectors } from './store.ts';
export type { ServiceStore, ServiceStatus } from './store.ts';

export const serviceStore = createServiceStore(getClient);

export function useServiceStore<T>(selector: (state: ServiceStore) => T): T {
  return useStore(serviceStore, selector);
}
