import { TOKEN_FRAGMENT_KEY, TOKEN_PATTERN } from '../../../src-main/contract/http.ts';

/**
 * The access token of `bulwark serve` in the browser. The CLI prints the page URL with the token in the
 * fragment (`/#token=...`): a fragment is never sent to the server, never logged by it and never put in a
 * Referer. On load the page moves it to sessionStorage (this tab only, gone when the tab closes) and strips
 * it from the address bar, so it does not stay in history, bookmarks or a shared screen. The HTTP transport
 * then exchanges it for this browser's session cookie, so other tabs and bookmarks need no token.
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

/** What the sign-in page says, for a person who has never seen a terminal. */
export const SIGN_IN_HELP =
  'Open the link Bulwark showed when it was set up on this computer (it starts with http://127.0.0.1: and ' +
  'ends with #token=…), or paste it here. Whoever set Bulwark up can show it again: it is printed by ' +
  '`bulwark serve --print-token` on this computer.';

/** The token in what a person pasted: the whole link (…/#token=…) or the token alone; undefined otherwise. */
export function tokenFromInput(text: string): string | undefined {
  const trimmed = text.trim();
  if (TOKEN_PATTERN.test(trimmed)) return trimmed;
  const hash = trimmed.indexOf('#');
  if (hash === -1) return undefined;
  const token = new URLSearchParams(trimmed.slice(hash + 1)).get(TOKEN_FRAGMENT_KEY);
  return token !== null && TOKEN_PATTERN.test(token) ? token : undefined;
}
