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
  it('shows the dashboard with the repository and the snapshot list when opened with the token', async () => {
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

    const repository = page.getByRole('region', { name: 'Repository' });
    await expect.poll(() => repository.textContent(), { timeout: 20_000 }).toContain('worm-folder');
    const repoText = (await repository.textContent()) ?? '';
    expect(repoText).toContain(path.join(tmp, 'home', 'data', 'repository'));
    expect(repoText).toMatch(/Snapshots\s*1/);

    const rows = page.getByRole('region', { name: 'Snapshots' }).locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(1);
    const row = (await rows.first().textContent()) ?? '';
    expect(row).toContain(src);
    expect(row).toContain(os.hostname());
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Bulwark');
    expect(await page.locator('.app__header .muted').textContent()).toMatch(/^v\d+\.\d+\.\d+ · browser$/);

    // the token left the address bar (history, bookmarks, screen sharing) and lives in this tab only
    expect(page.url()).toBe(`${origin}/`);
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
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(1);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a clear "not authorized" state without the token or with a wrong one', async () => {
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
      expect(text).toContain('bulwark serve --print-token');
      expect(text).toContain('#token=');
      // nothing of the repository leaks into the page
      expect(await page.getByRole('region', { name: 'Snapshots' }).count()).toBe(0);
      expect(text).not.toContain(src);
      await screenshot(page, name);
      await context.close();
    }
  });
});
