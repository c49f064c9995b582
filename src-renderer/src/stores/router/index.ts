import { useStore } from 'zustand';

import { createRouterStore, type RouterStore } from './store.ts';

export { routerSelectors, hrefOf } from './store.ts';
export type { RouterStore } from './store.ts';

export const routerStore = createRouterStore(window.location);

export function useRouterStore<T>(selector: (state: RouterStore) => T): T {
  return useStore(routerStore, selector);
}
