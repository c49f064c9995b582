import { createStore, type StoreApi } from 'zustand/vanilla';

/**
 * Light, dark, or whatever the system says (the default). The choice is kept in localStorage; the page
 * shows it through `<html data-theme>`: absent for "system" (the tokens follow `prefers-color-scheme`).
 */
export type ThemePreference = 'system' | 'light' | 'dark';

export const THEME_STORAGE_KEY = 'bulwark.theme';

export interface ThemeState {
  preference: ThemePreference;
}

export interface ThemeActions {
  setPreference(preference: ThemePreference): void;
}

export type ThemeStore = ThemeState & ThemeActions;

export const themeSelectors = {
  preference: (s: ThemeStore) => s.preference,
};

export type ThemeStorage = Pick<Storage, 'getItem' | 'setItem'>;

export interface ThemeRoot {
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
}

export function isThemePreference(value: unknown): value is ThemePreference {
  return value === 'system' || value === 'light' || value === 'dark';
}

export function readPreference(storage: ThemeStorage | undefined): ThemePreference {
  try {
    const stored = storage?.getItem(THEME_STORAGE_KEY);
    return isThemePreference(stored) ? stored : 'system';
  } catch {
    return 'system';
  }
}

export function applyTheme(root: ThemeRoot, preference: ThemePreference): void {
  if (preference === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', preference);
}

export function createThemeStore(storage: ThemeStorage | undefined, root: ThemeRoot): StoreApi<ThemeStore> {
  const preference = readPreference(storage);
  applyTheme(root, preference);
  return createStore<ThemeStore>()((set) => ({
    preference,
    setPreference(next) {
      try {
        storage?.setItem(THEME_STORAGE_KEY, next);
      } catch {
        // storage disabled: the choice lasts until the page is reloaded
      }
      applyTheme(root, next);
      set({ preference: next });
    },
  }));
}
