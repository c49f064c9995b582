import type { Session, WebContents } from 'electron';

/**
 * Content-Security-Policy of the renderer. The same policy is in the <meta> tag of src-renderer/index.html
 * (file:// responses carry no headers, so the meta tag is what protects the packaged page; the header
 * covers anything loaded through the session). test/app/security.test.ts keeps the two identical.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

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
