import { createStore, type StoreApi } from 'zustand/vanilla';

import { pageSchema, type Page } from '../../../../src-main/contract/model.ts';

/**
 * Which page is shown, kept in the URL fragment (`#/sources`) so Back and Forward work and a page can be
 * reloaded. The access token also arrives in the fragment (`#token=…`), which api/token.ts removes first.
 */
export const DEFAULT_PAGE: Page = 'overview';

export function pageFromHash(hash: string): Page {
  const name = hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  const parsed = pageSchema.safeParse(name);
  return parsed.success ? parsed.data : DEFAULT_PAGE;
}

export const hrefOf = (page: Page): string => `#/${page}`;

export interface RouterState {
  page: Page;
  /** bumped on every navigation, so the page heading takes the focus even when the page is the same */
  visit: number;
}

export interface RouterActions {
  navigate(page: Page): void;
  /** the fragment changed (Back, Forward, a link) */
  syncFromHash(hash: string): void;
}

export type RouterStore = RouterState & RouterActions;

export const routerSelectors = {
  page: (s: RouterStore) => s.page,
  visit: (s: RouterStore) => s.visit,
};

export interface HashLocation {
  hash: string;
}

export function createRouterStore(location: HashLocation): StoreApi<RouterStore> {
  return createStore<RouterStore>()((set, get) => ({
    page: pageFromHash(location.hash),
    visit: 0,
    navigate(page) {
      if (location.hash !== hrefOf(page)) location.hash = hrefOf(page);
      set({ page, visit: get().visit + 1 });
    },
    syncFromHash(hash) {
      const page = pageFromHash(hash);
      if (page !== get().page) set({ page, visit: get().visit + 1 });
    },
  }));
}
