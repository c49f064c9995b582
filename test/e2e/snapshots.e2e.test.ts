/**
 * The Snapshots page end to end (issue 12): a real `bulwark serve` with an S3 target on the test run's Ceph
 * RGW (Object Lock). A folder is backed up there, the service's lock check runs, and Chromium shows every
 * backup with the protected-until date `bulwark verify --locks --json` reports, its legal hold toggled
 * after a confirmation, the lock check's result, and the retention editor's preview of "Accounting (10
 * years)". Screenshots (light and dark) go to .e2e-screenshots/.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import type { ResponseOf } from '../../src-main/contract/ipc.ts';
import { formatDate } from '../../src-renderer/src/ui/format.ts';
import { acquireRgw, uniqueBucketName, type RgwHandle } from '../harness/rgw.ts';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  childEnv,
  ensureRendererBuilt,
  root,
  screenshot,
  startServe,
  type ServeChild,
  callApi,
  waitFor,
} from './helpers.ts';
import { runMain } from '../cli/helpers.ts';

const SHOTS = path.join(root, '.e2e-screenshots');
const PASSWORD = 'correct horse battery staple';

let rgw: RgwHandle;
let bucket = '';
const prefix = `office-${randomBytes(3).toString('hex')}`;
let tmp: string;
let serve: ServeChild;
let origin: string;
let token: string;
let browser: Browser;

const call = <T>(channel: string, body: unknown = {}): Promise<T> => callApi<T>(origin, token, channel, body);

const until = <T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 60_000,
): Promise<T> => waitFor(probe, what, { timeoutMs, intervalMs: 250, stderr: () => serve.stderr() });

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = childEnv({
    BULWARK_HOME: path.join(tmp, 'cli-home'),
    BULWARK_PASSWORD: PASSWORD,
    AWS_ACCESS_KEY_ID: rgw.accessKeyId,
    AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey,
    AWS_REGION: rgw.region,
    AWS_CONFIG_FILE: path.join(tmp, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'no-aws-credentials'),
  });
  return runMain(args, env);
}

beforeAll(async () => {
  ensureRendererBuilt();
  rgw = await acquireRgw(inject('rgw'));
  bucket = uniqueBucketName('e2e-snapshots');
  await rgw.createBucket(bucket, { objectLock: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  const userHome = path.join(tmp, 'user');
  fs.mkdirSync(userHome);
  serve = await startServe(
    childEnv({
      HOME: userHome,
      BULWARK_HOME: path.join(tmp, 'bulwark-home'),
      BULWARK_KDF_N: '1024',
      NODE_COMPILE_CACHE: path.join(tmp, 'node-compile-cache'),
      AWS_CONFIG_FILE: path.join(tmp, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'no-aws-credentials'),
    }),
  );
  const url = new URL(serve.pageUrl);
  origin = url.origin;
  token = url.hash.replace('#token=', '');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (serve) expect(await serve.stop()).toBe(0);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  await rgw?.release();
});

async function openSnapshots(page: Page): Promise<void> {
  await page.goto(serve.pageUrl);
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Snapshots', exact: true })
    .click();
  await page.getByRole('heading', { name: 'Snapshots', level: 1 }).waitFor();
}

describe('the Snapshots page against Ceph RGW', () => {
  it('shows protected-until as verify --locks, toggles a legal hold after confirming, previews retention', async () => {
    const { target } = await call<ResponseOf<'bulwark:targets.add'>>('targets.add', {
      kind: 's3',
      name: 'Office cloud',
      bucket,
      prefix,
      endpoint: rgw.endpoint,
      region: rgw.region,
      accessKeyId: rgw.accessKeyId,
      secretAccessKey: rgw.secretAccessKey,
      objectLock: { mode: 'COMPLIANCE', days: 1 },
      password: PASSWORD,
    });
    const docs = path.join(tmp, 'user', 'Accounts');
    fs.mkdirSync(docs);
    fs.writeFileSync(path.join(docs, 'ledger.csv'), 'date,amount\n2026-01-02,100\n');
    const { source } = await call<ResponseOf<'bulwark:sources.add'>>('sources.add', {
      name: 'Accounts',
      paths: [docs],
      targetId: target.id,
    });
    await until(async () => {
      const list = await call<ResponseOf<'bulwark:snapshots.list'>>('snapshots.list', {
        sourceId: source.id,
      });
      return list.snapshots.length > 0 ? list : undefined;
    }, 'the first backup');
    await call('maintenance.checkLocks', { targetId: target.id });
    const status = await until(async () => {
      const s = await call<ResponseOf<'bulwark:maintenance.status'>>('maintenance.status');
      return s.targets.find((t) => t.targetId === target.id)?.lockCheck ? s : undefined;
    }, 'the lock check');
    expect(status.targets.find((t) => t.targetId === target.id)?.lockCheck).toMatchObject({ ok: true });

    const verify = await cli([
      'verify',
      '--locks',
      '--json',
      '--repo',
      `s3://${bucket}/${prefix}`,
      '--endpoint',
      rgw.endpoint,
    ]);
    expect(verify.code, verify.stderr).toBe(0);
    const report = JSON.parse(verify.stdout) as { snapshots: { id: string; protectedUntil?: string }[] };
    const listed = await call<ResponseOf<'bulwark:snapshots.list'>>('snapshots.list', {
      sourceId: source.id,
    });
    expect(listed.snapshots.map((s) => [s.id, s.protectedUntil])).toEqual(
      report.snapshots.map((s) => [s.id, s.protectedUntil]),
    );
    const until0 = listed.snapshots[0]?.protectedUntil;
    if (!until0) throw new Error('no protected-until');

    for (const scheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({
        viewport: { width: 1280, height: 900 },
        colorScheme: scheme,
      });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      await openSnapshots(page);
      const table = page.getByRole('table', { name: 'Backups of Accounts' });
      await table.waitFor();
      // the date on screen is the one verify --locks reports (formatted in the browser's locale)
      const cell = table.locator('td[data-col="protected-until"] time').first();
      expect(await cell.getAttribute('datetime')).toBe(until0);
      expect(await cell.textContent()).toBe(formatDate(until0));
      await expect.poll(() => page.getByTestId('lock-check').textContent()).toMatch(/Locked as promised/);
      await screenshot(page, SHOTS, `snapshots-${scheme}.png`);

      if (scheme === 'light') {
        // legal hold: confirm, then the switch is on (and the server says so: retention-rgw.test.ts)
        // by keyboard, as a person without a mouse would
        await table
          .getByRole('switch', { name: /Legal hold on the backup of/ })
          .first()
          .focus();
        await page.keyboard.press('Space');
        const confirm = page.getByRole('alertdialog', { name: 'Put this backup under legal hold?' });
        await confirm.waitFor();
        await screenshot(page, SHOTS, 'snapshots-legal-hold-confirm-light.png');
        await confirm.getByRole('button', { name: 'Put under legal hold' }).click();
        await confirm.waitFor({ state: 'detached', timeout: 60_000 });
        await page.getByText('On', { exact: true }).first().waitFor({ timeout: 30_000 });
        expect(
          await table
            .getByRole('switch', { name: /Legal hold on the backup of/ })
            .first()
            .isChecked(),
        ).toBe(true);
        const held = await call<ResponseOf<'bulwark:snapshots.list'>>('snapshots.list', {
          sourceId: source.id,
        });
        expect(held.snapshots[0]?.held).toBe(true);
      }

      await page.getByRole('button', { name: /Change how long the backups of Accounts are kept/ }).click();
      const dialog = page.getByRole('dialog', { name: 'How long to keep the backups of Accounts' });
      await dialog.waitFor();
      await dialog.getByText('Accounting (10 years)', { exact: true }).click();
      const preview = dialog.getByRole('table', { name: /Preview/ });
      // the preview of the choice just made (busy until its answer is in: never the previous choice's)
      await expect
        .poll(() => dialog.getByTestId('retention-preview').getAttribute('aria-busy'), { timeout: 30_000 })
        .toBe('false');
      await preview.waitFor();
      await expect.poll(() => dialog.getByTestId('preview-counts').textContent()).toMatch(/^1 kept/);
      expect(await preview.locator('tbody tr').count()).toBe(1);
      await preview.scrollIntoViewIfNeeded();
      await screenshot(page, SHOTS, `snapshots-retention-preview-${scheme}.png`);
      if (scheme === 'dark') {
        await dialog.getByRole('button', { name: 'Save' }).click();
        await dialog.waitFor({ state: 'detached' });
        await expect
          .poll(() => page.getByTestId('retention').textContent())
          .toMatch(/Accounting \(10 years\)/);
      } else await dialog.getByRole('button', { name: 'Cancel' }).click();

      // 800 × 600: nothing scrolls sideways
      await page.setViewportSize({ width: 800, height: 600 });
      expect(
        await page.evaluate<number>('(document.scrollingElement?.scrollWidth ?? 0) - window.innerWidth'),
      ).toBeLessThanOrEqual(0);
      expect(problems).toEqual([]);
      await context.close();
    }
    const got = await call<ResponseOf<'bulwark:retention.get'>>('retention.get', { sourceId: source.id });
    expect(got.template).toBe('accounting-10y');
  });
});
