import { useStore } from 'zustand';

import { createThemeStore, type ThemeStore } from './store.ts';

export { themeSelectors } from './store.ts';
export type { ThemePreference, ThemeStore } from './store.ts';

function localStorageOrUndefined(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

export const themeStore = createThemeStore(localStorageOrUndefined(), document.documentElement);

export function useThemeStore<T>(selector: (state: ThemeStore) => T): T {
  return useStore(themeStore, selector);
}
