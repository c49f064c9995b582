import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { Session, WebContents } from 'electron';
import { describe, expect, it } from 'vitest';

import {
  CONTENT_SECURITY_POLICY,
  hardenSession,
  hardenWebContents,
  isOwnPage,
} from '../../src-main/app/security.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const PAGE = 'file:///opt/Bulwark/dist/renderer/index.html';

describe('content security policy', () => {
  it('is the same in the response header and in the <meta> tag of index.html', () => {
    const html = readFileSync(path.join(root, 'src-renderer', 'index.html'), 'utf8');
    const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html);
    expect(meta?.[1]).toBe(CONTENT_SECURITY_POLICY);
  });

  it('allows no inline script, no eval and no remote content', () => {
    const directives = new Map(
      CONTENT_SECURITY_POLICY.split(';').map((d) => {
        const [name = '', ...values] = d.trim().split(/\s+/);
        return [name, values] as const;
      }),
    );
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    for (const values of directives.values()) {
      for (const v of values) expect(v).toMatch(/^('self'|'none'|data:)$/);
    }
  });

  it('is added to every response by the session, and every permission is refused', () => {
    type HeadersListener = (
      details: { responseHeaders?: Record<string, string[]> },
      callback: (response: { responseHeaders: Record<string, string[]> }) => void,
    ) => void;
    let onHeaders: HeadersListener | undefined;
    let permission: ((c: unknown, p: string, cb: (granted: boolean) => void) => void) | undefined;
    let check: (() => boolean) | undefined;
    const session = {
      webRequest: { onHeadersReceived: (l: HeadersListener) => (onHeaders = l) },
      setPermissionRequestHandler: (h: typeof permission) => (permission = h),
      setPermissionCheckHandler: (h: typeof check) => (check = h),
    };
    hardenSession(session as unknown as Session);

    let headers: Record<string, string[]> | undefined;
    onHeaders?.({ responseHeaders: { 'Content-Type': ['text/html'] } }, (r) => (headers = r.responseHeaders));
    expect(headers).toEqual({
      'Content-Type': ['text/html'],
      'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
    });

    let granted: boolean | undefined;
    permission?.({}, 'media', (g) => (granted = g));
    expect(granted).toBe(false);
    expect(check?.()).toBe(false);
  });
});

describe('navigation and new windows', () => {
  it('isOwnPage compares scheme, host and path only', () => {
    expect(isOwnPage(`${PAGE}#/restore`, PAGE)).toBe(true);
    expect(isOwnPage('file:///opt/Bulwark/dist/renderer/other.html', PAGE)).toBe(false);
    expect(isOwnPage('https://opt/Bulwark/dist/renderer/index.html', PAGE)).toBe(false);
    expect(isOwnPage('::', PAGE)).toBe(false);
  });

  it('blocks navigation away from our page, new windows and <webview>', () => {
    const handlers = new Map<string, (event: { preventDefault(): void }, url?: string) => void>();
    let openHandler: (() => { action: string }) | undefined;
    const contents = {
      on: (name: string, h: (event: { preventDefault(): void }, url?: string) => void) =>
        handlers.set(name, h),
      setWindowOpenHandler: (h: () => { action: string }) => (openHandler = h),
    };
    hardenWebContents(contents as unknown as WebContents, PAGE);

    const fire = (name: string, url?: string) => {
      let prevented = false;
      handlers.get(name)?.({ preventDefault: () => (prevented = true) }, url);
      return prevented;
    };
    expect(fire('will-navigate', 'https://evil.example/')).toBe(true);
    expect(fire('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(fire('will-navigate', `${PAGE}#/snapshots`)).toBe(false);
    expect(fire('will-redirect', 'https://evil.example/')).toBe(true);
    expect(fire('will-attach-webview')).toBe(true);
    expect(openHandler?.()).toEqual({ action: 'deny' });
  });
});
