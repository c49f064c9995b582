/**
 * The "Add target" wizard end to end (issue 12, Targets): a real `bulwark serve` child, Debian's Chromium
 * and a real S3 server with Object Lock (Ceph RGW from test/harness/rgw.ts). With the bucket owner's keys
 * in GOVERNANCE mode the test says "Not immutable with these credentials" and shows the policy to copy (RGW
 * lets the owner bypass governance); in COMPLIANCE mode it says "Immutable". The target saved by the
 * wizard gets a backup through the API; the CLI's `verify --locks` passes on it; and the held-out attacks
 * with the same keys (delete a locked version, shorten its lock, overwrite it by name) fail on RGW.
 * Screenshots, light and dark, go to .e2e-screenshots/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
} from '@aws-sdk/client-s3';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { acquireRgw, uniqueBucketName, type RgwHandle } from '../harness/rgw.ts';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  childEnv,
  ensureRendererBuilt,
  root,
  startServe,
  type ServeChild,
  callApi,
} from './helpers.ts';
import { runMain } from '../cli/helpers.ts';

const SHOTS = path.join(root, '.e2e-screenshots');
const PASSWORD = 'the office backup password';

let rgw: RgwHandle;
let bucket: string;
const prefix = `office-${Date.now().toString(36)}`;
let tmp: string;
let serve: ServeChild;
let origin: string;
let token: string;
let browser: Browser;

const call = <T>(channel: string, body: unknown = {}): Promise<T> => callApi<T>(origin, token, channel, body);

async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name), fullPage });
}

/** The CLI as a child process with the bucket owner's keys (the same keys the wizard was given). */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = childEnv({
    BULWARK_HOME: path.join(tmp, 'cli-home'),
    BULWARK_PASSWORD: PASSWORD,
    NODE_COMPILE_CACHE: path.join(tmp, 'node-compile-cache'),
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
  bucket = uniqueBucketName('e2e-targets');
  await rgw.createBucket(bucket, { objectLock: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  const userHome = path.join(tmp, 'user');
  fs.mkdirSync(userHome);
  for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
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

async function openTargets(context: BrowserContext): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  await page.goto(serve.pageUrl);
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Targets', exact: true })
    .click();
  await page.getByRole('heading', { name: 'Targets', level: 1 }).waitFor();
  return { page, problems };
}

async function fillS3(page: Page): Promise<void> {
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Address of the service').fill(rgw.endpoint);
  await dialog.getByLabel('Region (if the service asks for one)').fill(rgw.region);
  await dialog.getByLabel('Bucket', { exact: true }).fill(bucket);
  await dialog.getByLabel('Folder in the bucket').fill(prefix);
  await dialog.getByLabel('Access key', { exact: true }).fill(rgw.accessKeyId);
  await dialog.getByLabel('Secret key', { exact: true }).fill(rgw.secretAccessKey);
}

const next = (page: Page) =>
  page.getByRole('dialog').getByRole('button', { name: 'Next', exact: true }).click();
const back = (page: Page) =>
  page.getByRole('dialog').getByRole('button', { name: 'Back', exact: true }).click();

describe('the Add target wizard against Ceph RGW', () => {
  it('governance owner keys: Not immutable with the policy; compliance: Immutable; saved with its verdict', async () => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      colorScheme: 'light',
    });
    const { page, problems } = await openTargets(context);
    await shot(page, 'targets-light.png');

    await page.getByRole('button', { name: 'Add target' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a target' });
    await dialog.waitFor();
    await shot(page, 'targets-wizard-1-provider-light.png', false);

    // Wasabi first: its 90-day minimum shows in the cost estimate
    await dialog.getByText('Wasabi', { exact: true }).click();
    await next(page);
    expect(await dialog.getByLabel('Address of the service').inputValue()).toBe(
      'https://s3.us-east-1.wasabisys.com',
    );
    await dialog.getByLabel('Bucket', { exact: true }).fill('office-backups');
    await dialog.getByLabel('Access key', { exact: true }).fill('AKIAEXAMPLE');
    await dialog.getByLabel('Secret key', { exact: true }).fill('example-secret');
    await next(page);
    const cost = dialog.getByTestId('cost-estimate');
    await expect
      .poll(() => cost.textContent())
      .toMatch(/a month to keep 200 GB; every GB written is billed for at least 90 days/);
    expect(await dialog.textContent()).toContain('Wasabi bills 90 days at least');
    await shot(page, 'targets-wizard-3-protection-light.png', false);
    await back(page);
    await back(page);

    // the NAS preset with the RGW owner's keys
    await dialog.getByText('NAS or server with S3 (MinIO, Ceph)', { exact: true }).click();
    await next(page);
    await next(page); // nothing filled in: the fields say what is missing
    expect(await dialog.getByText('Give the name of the bucket.').count()).toBe(1);
    await fillS3(page);
    await shot(page, 'targets-wizard-2-location-light.png', false);
    await next(page);
    await dialog.getByText('Flexible (governance mode)', { exact: true }).click();
    await next(page);
    await dialog.getByRole('button', { name: 'Test', exact: true }).click();
    const verdict = dialog.getByRole('status', { name: 'Test result' });
    await verdict.waitFor({ timeout: 60_000 });
    expect(await verdict.getAttribute('data-verdict')).toBe('not-immutable');
    expect(await verdict.textContent()).toContain('Not immutable with these credentials');
    expect(await dialog.locator('[data-check="bypass-governance"]').getAttribute('data-status')).toBe(
      'failed',
    );
    expect(await dialog.getByRole('button', { name: 'Copy policy' }).count()).toBe(1);
    expect(await dialog.locator('.copy-block__text').first().textContent()).toContain(
      's3:BypassGovernanceRetention',
    );
    expect(await dialog.getByRole('button', { name: 'Next', exact: true }).isDisabled()).toBe(true);
    await shot(page, 'targets-wizard-4-test-not-immutable-light.png');
    await dialog.getByRole('button', { name: 'Copy policy' }).scrollIntoViewIfNeeded();
    await shot(page, 'targets-wizard-4-policy-light.png', false);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(500); // the colour transitions
    await shot(page, 'targets-wizard-4-test-not-immutable-dark.png');
    await page.emulateMedia({ colorScheme: 'light' });

    // back to the strict mode: Immutable
    await back(page);
    await dialog.getByText('Strict (compliance mode) — recommended', { exact: true }).click();
    await next(page);
    await dialog.getByRole('button', { name: /^Test/ }).click();
    await expect
      .poll(() => dialog.getByRole('status', { name: 'Test result' }).getAttribute('data-verdict'), {
        timeout: 60_000,
      })
      .toBe('immutable');
    expect(await dialog.getByRole('status', { name: 'Test result' }).textContent()).toContain('Immutable');
    for (const id of ['delete-version', 'overwrite', 'shorten-lock', 'bypass-governance', 'probe-locked'])
      expect(await dialog.locator(`[data-check="${id}"]`).getAttribute('data-status'), id).toBe('passed');
    expect(await dialog.getByRole('button', { name: 'Copy policy' }).count()).toBe(0);
    await shot(page, 'targets-wizard-4-test-immutable-light.png');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(500); // the colour transitions
    await shot(page, 'targets-wizard-4-test-immutable-dark.png');
    await page.emulateMedia({ colorScheme: 'light' });

    await next(page);
    await dialog.getByLabel('Name', { exact: true }).fill('Office NAS');
    await dialog.getByLabel('Password for the backups').fill(PASSWORD);
    await dialog.getByLabel('Password again').fill(PASSWORD);
    await shot(page, 'targets-wizard-5-backups-light.png', false);
    await dialog.getByRole('button', { name: 'Save target' }).click();
    await dialog.getByText('Office NAS is ready').waitFor({ timeout: 60_000 });
    await shot(page, 'targets-wizard-6-done-light.png', false);
    await dialog.getByRole('button', { name: 'Done' }).click();

    const card = page.getByRole('article', { name: 'Office NAS' });
    await card.waitFor();
    expect(await card.getAttribute('data-verdict')).toBe('immutable');
    expect(await card.textContent()).toMatch(/Immutable\. Backups written with these keys cannot be deleted/);
    await shot(page, 'targets-saved-light.png');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(500); // the colour transitions
    await shot(page, 'targets-saved-dark.png');
    await page.setViewportSize({ width: 800, height: 600 });
    await shot(page, 'targets-saved-dark-800x600.png', false);
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await page.getByRole('button', { name: 'Add target' }).click();
    await page.getByRole('dialog', { name: 'Add a target' }).waitFor();
    await page.waitForTimeout(300);
    await shot(page, 'targets-wizard-1-provider-dark-800x600.png', false);
    expect(problems).toEqual([]);
    await context.close();
  }, 240_000);

  it('a repository the wizard set up passes verify --locks, and the held-out attacks fail on RGW', async () => {
    const { targets } = await call<{ targets: { id: string; name: string; location: string }[] }>(
      'targets.list',
    );
    const target = targets.find((t) => t.name === 'Office NAS');
    expect(target?.location).toBe(`s3://${bucket}/${prefix}`);
    const data = path.join(tmp, 'user', 'Documents');
    fs.mkdirSync(data, { recursive: true });
    fs.writeFileSync(path.join(data, 'ledger.txt'), 'invoice 1\ninvoice 2\n');
    const { source } = await call<{ source: { id: string } }>('sources.add', {
      name: 'Documents',
      paths: [data],
      targetId: target?.id,
    });
    const end = Date.now() + 60_000;
    for (;;) {
      const { history } = await call<{ history: { state: string }[] }>('jobs.list', { sourceId: source.id });
      if (history.some((h) => h.state === 'succeeded')) break;
      if (history.some((h) => h.state === 'failed')) throw new Error(`backup failed\n${serve.stderr()}`);
      if (Date.now() > end) throw new Error(`no backup\n${serve.stderr()}`);
      await new Promise((r) => setTimeout(r, 250));
    }

    const repoArgs = ['--repo', `s3://${bucket}/${prefix}`, '--endpoint', rgw.endpoint];
    const verify = await cli(['verify', ...repoArgs, '--locks']);
    expect(verify.stderr + verify.stdout).not.toMatch(/error/i);
    expect(verify.code).toBe(0);

    // the attacks, with the very keys the wizard was given
    const s3 = rgw.client();
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `${prefix}/` }));
    const victim = (listed.Versions ?? []).find(
      (v) => v.Key !== undefined && !v.Key.includes('/probes/') && /\/(snapshots|packs|index)\//.test(v.Key),
    );
    expect(victim?.Key).toBeDefined();
    const Key = victim?.Key ?? '';
    const VersionId = victim?.VersionId ?? '';
    const before = await s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key, VersionId }));
    expect(before.Retention?.Mode).toBe('COMPLIANCE');
    const original = await (
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key, VersionId }))
    ).Body?.transformToByteArray();

    await expect(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key, VersionId }))).rejects.toThrow();
    await expect(
      s3.send(new DeleteObjectCommand({ Bucket: bucket, Key, VersionId, BypassGovernanceRetention: true })),
    ).rejects.toThrow();
    await expect(
      s3.send(
        new PutObjectRetentionCommand({
          Bucket: bucket,
          Key,
          VersionId,
          Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 3600_000) },
        }),
      ),
    ).rejects.toThrow();
    const over = await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'ransomware was here' }));
    expect(over.VersionId).not.toBe(VersionId);

    // the locked version is still there, byte for byte, with its lock
    const after = await s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key, VersionId }));
    expect(after.Retention?.Mode).toBe('COMPLIANCE');
    expect(after.Retention?.RetainUntilDate?.getTime()).toBe(before.Retention?.RetainUntilDate?.getTime());
    const still = await (
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key, VersionId }))
    ).Body?.transformToByteArray();
    expect(Buffer.from(still ?? [])).toEqual(Buffer.from(original ?? []));
  }, 180_000);
});
