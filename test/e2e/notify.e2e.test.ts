import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ResponseOf } from '../../src-main/contract/ipc.ts';
import {
  makeCertificate,
  startHttpReceiver,
  startSmtpReceiver,
  type HttpReceiver,
  type SmtpReceiver,
  type TestCertificate,
} from '../harness/notify-receivers.ts';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  childEnv,
  ensureRendererBuilt,
  root,
  startServe,
  type ServeChild,
  callApi,
  waitFor,
} from './helpers.ts';

// Alerts that reach someone, set up by clicking: a real `bulwark serve` (trusting the test's self-signed
// certificate through NODE_EXTRA_CA_CERTS, as an office would add its mail server's), a real SMTP server on
// 127.0.0.1 that insists on STARTTLS and a password, and a real HTTP receiver. In Chromium: Settings →
// Notifications, fill in email and webhook, "Send test" → the receivers get them and the page says so; the
// Audit log tab lists the backups and exports them as CSV; the Targets page shows the storage chart.
// Screenshots (light and dark) go to .e2e-screenshots/.

const SHOTS = path.join(root, '.e2e-screenshots');

let tmp: string;
let serve: ServeChild;
let origin: string;
let token: string;
let browser: Browser;
let cert: TestCertificate;
let smtp: SmtpReceiver;
let http: HttpReceiver;

const call = <T>(channel: string, body: unknown = {}): Promise<T> => callApi<T>(origin, token, channel, body);

const until = <T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 30_000,
): Promise<T> => waitFor(probe, what, { timeoutMs, intervalMs: 100, stderr: () => serve.stderr() });

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name), fullPage: true });
}

async function open(context: BrowserContext): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content.Security.Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(serve.pageUrl);
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  return { page, problems };
}

async function settingsTab(page: Page, tab: 'Notifications' | 'Audit log'): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Settings', exact: true })
    .click();
  await page.getByRole('tab', { name: tab }).click();
}

const overflow = (page: Page) =>
  page.evaluate<number>('(document.scrollingElement?.scrollWidth ?? 0) - window.innerWidth');

beforeAll(async () => {
  ensureRendererBuilt();
  cert = makeCertificate();
  smtp = await startSmtpReceiver(cert, { user: 'office@example.com', password: 'mail-secret' });
  http = await startHttpReceiver();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-notify-'));
  const home = path.join(tmp, 'user');
  fs.mkdirSync(path.join(home, 'Office'), { recursive: true });
  fs.writeFileSync(path.join(home, 'Office', 'invoice.txt'), 'invoice\n'.repeat(2000));
  serve = await startServe(
    childEnv({
      HOME: home,
      BULWARK_HOME: path.join(tmp, 'bulwark-home'),
      BULWARK_KDF_N: '1024',
      NODE_EXTRA_CA_CERTS: cert.certFile,
      NODE_COMPILE_CACHE: path.join(tmp, 'node-compile-cache'),
    }),
  );
  const url = new URL(serve.pageUrl);
  origin = url.origin;
  token = url.hash.replace('#token=', '');
  await call('sources.add', { name: 'Office', paths: [path.join(home, 'Office')], quietSeconds: 1 });
  await until(async () => {
    const { sources } = await call<ResponseOf<'bulwark:sources.list'>>('sources.list');
    return sources.every((s) => s.lastSnapshotAt && !s.job) ? sources : undefined;
  }, 'the first backup');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (serve) await serve.stop();
  await smtp?.close();
  await http?.close();
  cert?.cleanup();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('notifications, the audit log and the storage chart in Chromium', () => {
  it('sets up email and a webhook in Settings; "Send test" reaches the receivers', async () => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      colorScheme: 'light',
    });
    const { page, problems } = await open(context);
    await settingsTab(page, 'Notifications');
    await page.getByRole('heading', { name: 'Email' }).waitFor();

    // the switch's label is what a person clicks (its input is visually hidden)
    await page.getByText('Send alerts by email', { exact: true }).click();
    expect(await page.getByRole('switch', { name: 'Send alerts by email' }).isChecked()).toBe(true);
    await page.getByLabel('Mail server', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Port', { exact: true }).fill(String(smtp.port));
    await page.getByLabel('User name', { exact: true }).fill('office@example.com');
    await page.getByLabel('Password', { exact: true }).fill('mail-secret');
    await page.getByLabel('Send to').fill('boss@example.com, it@example.com');
    await page.getByRole('button', { name: 'Send test email' }).click();
    await page.getByText('Test message sent').first().waitFor({ timeout: 30_000 });
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]).toMatchObject({
      secure: true,
      user: 'office@example.com',
      to: ['boss@example.com', 'it@example.com'],
    });
    expect(smtp.mails[0]?.subject).toMatch(/^\[Bulwark on .+\] Test message$/);

    await page.getByText(/^Send alerts to a webhook/).click();
    expect(await page.getByRole('switch', { name: /Send alerts to a webhook/ }).isChecked()).toBe(true);
    await page.getByLabel('Webhook address').fill(`${http.url}/hooks/office`);
    await page.getByRole('button', { name: 'Send test message' }).click();
    await until(() => (http.requests.length > 0 ? true : undefined), 'the webhook');
    expect(http.requests[0]).toMatchObject({
      method: 'POST',
      path: '/hooks/office',
      contentType: 'application/json',
    });
    expect(http.requests[0]?.json).toMatchObject({ event: 'test', app: 'Bulwark' });
    await until(
      async () => ((await page.getByText('Test message sent').count()) === 2 ? true : undefined),
      'both results',
    );

    // a refusal in plain words, next to the button that caused it
    await page.getByLabel('Send to').fill('not an address');
    await page.getByRole('button', { name: 'Send test email' }).click();
    await page.getByText('Give an email address like office@example.com.').waitFor();
    await page.getByLabel('Send to').fill('boss@example.com, it@example.com');
    await page.getByRole('button', { name: 'Save' }).first().click();
    await until(
      async () => ((await page.getByText('The settings were not saved').count()) === 0 ? true : undefined),
      'saved',
    );

    // what the service keeps: the settings, never a secret
    const saved = await call<ResponseOf<'bulwark:notifications.get'>>('notifications.get');
    expect(saved.email).toMatchObject({ enabled: true, host: '127.0.0.1', passwordSet: true });
    expect(saved.webhook).toMatchObject({ enabled: true, urlSet: true });
    expect(JSON.stringify(saved)).not.toContain('mail-secret');
    expect(JSON.stringify(saved)).not.toContain('/hooks/office');
    await shot(page, 'settings-notifications-light.png');

    await page.setViewportSize({ width: 800, height: 600 });
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await shot(page, 'settings-notifications-800x600.png');
    expect(problems).toEqual([]);
    await context.close();

    const dark = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
    const d = await open(dark);
    await settingsTab(d.page, 'Notifications');
    await d.page.getByText('A password is saved. Leave this empty to keep it.').waitFor();
    await shot(d.page, 'settings-notifications-dark.png');
    expect(d.problems).toEqual([]);
    await dark.close();
  }, 120_000);

  it('lists the audit log with filters and exports it as CSV', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({
        viewport: { width: 1280, height: 900 },
        colorScheme: scheme,
        acceptDownloads: true,
      });
      const { page, problems } = await open(context);
      await settingsTab(page, 'Audit log');
      const table = page.getByRole('table', { name: 'Audit log, newest first' });
      await table.waitFor();
      const firstRow = table.getByRole('row').nth(1);
      await expect.poll(() => firstRow.textContent()).toContain('Backup');
      expect(await firstRow.textContent()).toContain('Office');
      expect(await firstRow.textContent()).toContain('This computer');
      await shot(page, `settings-audit-${scheme}.png`);

      if (scheme === 'light') {
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('button', { name: 'Export CSV' }).click(),
        ]);
        expect(download.suggestedFilename()).toMatch(/^bulwark-audit-\d{4}-\d{2}-\d{2}\.csv$/);
        const csv = fs.readFileSync(await download.path(), 'utf8');
        const lines = csv
          .replace(/^\uFEFF/, '')
          .trimEnd()
          .split('\r\n');
        expect(lines[0]).toBe(
          'time,action,what happened,folder,destination,program,user,computer,kept at the destination,action code,subject,details',
        );
        expect(lines.length).toBeGreaterThanOrEqual(2);
        expect(lines[1]).toContain(',Backup,"Backed up 1 file, ');

        // a filter that matches nothing: the empty state, in words
        await page.getByRole('button', { name: /Kind of action/ }).click();
        const options = await page.getByRole('option').allTextContents();
        expect(options).toContain('Backup');
        await page.keyboard.press('Escape');
        await page.getByRole('button', { name: /Destination/ }).click();
        await page.getByRole('option', { name: 'All destinations' }).click();
      }
      expect(problems).toEqual([]);
      await context.close();
    }
  }, 120_000);

  it('shows the storage chart of each target on the Targets page', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({
        viewport: { width: 1280, height: 900 },
        colorScheme: scheme,
      });
      const { page, problems } = await open(context);
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Targets', exact: true })
        .click();
      const chart = page.getByRole('region', { name: 'Storage used on This computer' });
      await chart.waitFor({ timeout: 20_000 });
      await chart.getByRole('img', { name: /^Chart: The backups here take/ }).waitFor();
      expect(await chart.locator('.recharts-bar-rectangle').count()).toBeGreaterThanOrEqual(1);
      await chart.scrollIntoViewIfNeeded();
      await shot(page, `targets-storage-chart-${scheme}.png`);
      await chart.screenshot({ path: path.join(SHOTS, `storage-chart-${scheme}.png`) });
      expect(problems).toEqual([]);
      await context.close();
    }
  }, 120_000);
});
