import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { chromium, type Browser, type Page, type WebSocket as PwWebSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CONTENT_SECURITY_POLICY } from '../../src-main/transport/csp.ts';
import {
  bulwark,
  CHROMIUM,
  CHROMIUM_ARGS,
  childEnv,
  ensureRendererBuilt,
  screenshot as keepScreenshot,
  startServe,
  type ServeChild,
} from './helpers.ts';

// The browser UI against a real `bulwark serve` child process, in Debian's Chromium (installed by
// scripts/setup.sh; never `playwright install`). Screenshots go to the test's temp folder; set
// BULWARK_E2E_ARTIFACTS=<dir> to keep copies.

let tmp: string;
let env: NodeJS.ProcessEnv;
let src: string;
let serve: ServeChild;
let pageUrl: string;
let origin: string;
let browser: Browser;

const screenshot = (page: Page, name: string) => keepScreenshot(page, tmp, name);

beforeAll(async () => {
  ensureRendererBuilt();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  env = childEnv({
    BULWARK_HOME: path.join(tmp, 'home'),
    BULWARK_KDF_N: '1024',
    NODE_COMPILE_CACHE: path.join(tmp, 'node-compile-cache'),
  });
  src = path.join(tmp, 'documents');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'invoice-2026-03.txt'), 'invoice\n'.repeat(100));
  fs.writeFileSync(path.join(src, 'notes.txt'), 'notes\n');
  // one snapshot in the embedded default repository of this BULWARK_HOME
  const backup = bulwark(env, ['backup', src, '--quiet']);
  expect(backup.status, backup.stderr).toBe(0);

  serve = await startServe(env);
  pageUrl = serve.pageUrl;
  origin = new URL(pageUrl).origin;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  if (serve) {
    // graceful shutdown on SIGTERM: exit 0 after closing the server, the service and the repository
    expect(await serve.stop()).toBe(0);
    expect(serve.stderr()).toContain('bulwark serve: stopped');
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('bulwark serve in Chromium', () => {
  it('shows the app (navigation, the protection status, the about box) when opened with the token', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content.Security.Policy|Refused to/i.test(m.text()))
        problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    const sockets: PwWebSocket[] = [];
    page.on('websocket', (ws) => sockets.push(ws));

    const response = await page.goto(pageUrl);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(response?.headers()['x-content-type-options']).toBe('nosniff');
    expect(response?.headers()['referrer-policy']).toBe('no-referrer');

    // the frame: navigation, the main side's answer on top; no folder of the service yet, so the overview
    // invites to add one
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect.poll(() => nav.getByRole('link').count(), { timeout: 20_000 }).toBe(7);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Overview');
    const bar = page.getByRole('region', { name: 'Protection status' });
    await expect.poll(() => bar.getAttribute('data-state'), { timeout: 20_000 }).not.toBe('checking');
    await expect
      .poll(() => page.getByRole('heading', { name: 'Add the first folder to protect' }).count())
      .toBe(1);
    expect(await page.textContent('body')).not.toContain(src);
    await nav.getByRole('link', { name: 'Settings', exact: true }).click();
    const about = page.getByRole('region', { name: 'About' });
    await expect.poll(() => about.textContent()).toMatch(/VersionBulwark \d+\.\d+\.\d+/);
    expect(await about.textContent()).toContain('In a web browser');
    await nav.getByRole('link', { name: 'Overview', exact: true }).click();

    // the token left the address bar (history, bookmarks, screen sharing) and lives in this tab only
    expect(page.url()).toMatch(new RegExp(`^${origin}/(#/[a-z]+)?$`));
    expect(page.url()).not.toContain('token');
    const token = new URL(pageUrl).hash.replace('#token=', '');
    expect(await page.evaluate("sessionStorage.getItem('bulwark.serviceToken')")).toBe(token);
    expect(await page.evaluate('document.cookie')).toBe('');

    // the event socket is open (same origin under connect-src 'self', token in the subprotocol)
    await expect.poll(() => sockets.length, { timeout: 10_000 }).toBe(1);
    expect(sockets[0]?.url()).toBe(`${origin.replace('http:', 'ws:')}/api/events`);
    expect(sockets[0]?.isClosed()).toBe(false);

    const shot = await screenshot(page, 'dashboard.png');
    expect(fs.statSync(shot).size).toBeGreaterThan(5_000);

    // a reload keeps working: the token comes from sessionStorage now
    await page.reload();
    await expect.poll(() => bar.getAttribute('data-state'), { timeout: 20_000 }).not.toBe('checking');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Overview');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a sign-in page without the token or with a wrong one; pasting the link signs in', async () => {
    for (const [name, url] of [
      ['not-authorized.png', `${origin}/`],
      ['wrong-token.png', `${origin}/#token=${'A'.repeat(43)}`],
    ] as const) {
      const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
      const page = await context.newPage();
      await page.goto(url);
      const alert = page.getByRole('alert');
      await expect.poll(() => alert.first().textContent(), { timeout: 20_000 }).toContain('Not authorized');
      const text = (await page.locator('main').textContent()) ?? '';
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in to Bulwark');
      expect(text).toContain('bulwark serve --print-token');
      expect(text).toContain('#token=');
      // nothing of the service leaks into the page
      expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);
      expect(text).not.toContain(src);
      await screenshot(page, name);

      // pasting the link signs this tab in
      await page.getByLabel('Sign-in link').fill(pageUrl);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect
        .poll(() => page.getByRole('navigation', { name: 'Main' }).count(), { timeout: 20_000 })
        .toBe(1);
      expect(page.url()).not.toContain('token=');
      await context.close();
    }
  });
});
