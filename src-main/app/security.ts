import type { Session, WebContents } from 'electron';

import { CONTENT_SECURITY_POLICY } from '../transport/csp.ts';

/** The renderer's policy, shared with `bulwark serve` (see src-main/transport/csp.ts). */
export { CONTENT_SECURITY_POLICY };

/** Adds the CSP header to every response and refuses every permission request (camera, notifications…). */
export function hardenSession(session: Session): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
      },
    });
  });
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

/** True when `url` is our page (query and fragment ignored). */
export function isOwnPage(url: string, trustedPageUrl: string): boolean {
  try {
    const a = new URL(url);
    const b = new URL(trustedPageUrl);
    return a.protocol === b.protocol && a.host === b.host && a.pathname === b.pathname;
  } catch {
    return false;
  }
}

/** No navigation away from our page, no new windows, no <webview>. Applied to every WebContents created. */
export function hardenWebContents(contents: WebContents, trustedPageUrl: string): void {
  contents.on('will-navigate', (event, url) => {
    if (!isOwnPage(url, trustedPageUrl)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isOwnPage(url, trustedPageUrl)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}
