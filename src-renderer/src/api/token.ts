import { TOKEN_FRAGMENT_KEY, TOKEN_PATTERN } from '../../../src-main/contract/http.ts';

/**
 * The access token of `bulwark serve` in the browser. The CLI prints the page URL with the token in the
 * fragment (`/#token=...`): a fragment is never sent to the server, never logged by it and never put in a
 * Referer. On load the page moves it to sessionStorage (this tab only, gone when the tab closes) and strips
 * it from the address bar, so it does not stay in history, bookmarks or a shared screen.
 */

export const TOKEN_STORAGE_KEY = 'bulwark.serviceToken';

export interface LocationLike {
  readonly hash: string;
  readonly pathname: string;
  readonly search: string;
}

export interface HistoryLike {
  readonly state: unknown;
  replaceState(data: unknown, unused: string, url?: string): void;
}

export type StorageLike = Pick<Storage, 'getItem' | 'setItem'>;

/** The token from the URL fragment (then stored and stripped), else from this tab's storage. */
export function takeAccessToken(
  location: LocationLike,
  history: HistoryLike,
  storage: StorageLike | undefined,
): string | undefined {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  const fromUrl = fragment.get(TOKEN_FRAGMENT_KEY);
  if (fromUrl !== null) {
    fragment.delete(TOKEN_FRAGMENT_KEY);
    const rest = fragment.toString();
    history.replaceState(
      history.state,
      '',
      `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`,
    );
    if (TOKEN_PATTERN.test(fromUrl)) {
      try {
        storage?.setItem(TOKEN_STORAGE_KEY, fromUrl);
      } catch {
        // storage disabled: the token still works until the page is reloaded
      }
      return fromUrl;
    }
  }
  try {
    const stored = storage?.getItem(TOKEN_STORAGE_KEY) ?? null;
    return stored !== null && TOKEN_PATTERN.test(stored) ? stored : undefined;
  } catch {
    return undefined;
  }
}
