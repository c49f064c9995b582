import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ResponseOf } from '../../src-main/contract/ipc.ts';
import type { Job } from '../../src-main/contract/model.ts';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  childEnv,
  ensureRendererBuilt,
  root,
  startServe,
  type ServeChild,
} from './helpers.ts';

// Issue 11's restore flows in Chromium against a real `bulwark serve` and its real repository (no mocked
// channel): (a) a deleted invoice found by name and put back where it was, (b) a spreadsheet saved over
// three times, its middle version restored beside the current one, (c) a restore into a folder where two
// files differ, skipped, (d) a folder of 100 000 entries browsed in a virtual list; then the designed
// states: no backups yet, and a backup storage that cannot be reached. Every flow checks the files on disk.
// Screenshots of each step, light and dark, go to .e2e-screenshots/restore-*.png.

const SHOTS = path.join(root, '.e2e-screenshots');
const BIG_FOLDER_SIZE = 100_000;
const FINAL: ReadonlySet<Job['state']> = new Set(['succeeded', 'failed', 'canceled', 'interrupted']);

interface Serve {
  serve: ServeChild;
  origin: string;
  token: string;
}

let tmp: string;
let home: string;
let main: Serve;
let browser: Browser;
const ids: Record<string, string> = {};

function endpoint(serve: ServeChild): Serve {
  const url = new URL(serve.pageUrl);
  return { serve, origin: url.origin, token: url.hash.replace('#token=', '') };
}

async function call<T>(at: Serve, channel: string, body: unknown = {}): Promise<T> {
  const post = () =>
    fetch(`${at.origin}/api/${channel}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${at.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  let res: Response;
  try {
    res = await post();
  } catch (e) {
    // A read may meet a kept-alive connection the service closed while its event loop was busy (a backup
    // of 100 000 files holds it for seconds): a read is asked again, once. Anything else fails, with what
    // the service said last.
    if (at.serve.child.exitCode !== null || !/\.list$|\.status$/.test(channel))
      throw new Error(`${channel}: ${String(e)}\n${at.serve.stderr()}`, { cause: e });
    await new Promise((r) => setTimeout(r, 500));
    res = await post();
  }
  const result = (await res.json()) as
    { ok: true; value: T } | { ok: false; error: { code: string; message: string } };
  if (!result.ok) throw new Error(`${channel}: ${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function until<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 30_000,
  at: Serve = main,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${at.serve.stderr()}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** The source has at least one backup and nothing queued or running. */
function idle(at: Serve, sourceId: string, timeoutMs = 60_000) {
  return until(
    async () => {
      const { sources } = await call<ResponseOf<'bulwark:sources.list'>>(at, 'sources.list');
      const s = sources.find((x) => x.id === sourceId);
      return s?.lastSnapshotAt && !s.job ? s : undefined;
    },
    `the backups of ${sourceId}`,
    timeoutMs,
    at,
  );
}

/** A backup now (jobs.runNow), waited for: it must succeed. */
async function backupNow(sourceId: string): Promise<Job> {
  const { job } = await call<ResponseOf<'bulwark:jobs.runNow'>>(main, 'jobs.runNow', { sourceId });
  const done = await until(async () => {
    const { jobs } = await call<ResponseOf<'bulwark:jobs.list'>>(main, 'jobs.list', { historyLimit: 0 });
    const j = jobs.find((x) => x.id === job.id);
    return j && FINAL.has(j.state) ? j : undefined;
  }, `backup job ${job.id}`);
  expect(done.state, done.error?.message).toBe('succeeded');
  return done;
}

async function addSource(at: Serve, name: string, folder: string, extra: Record<string, unknown> = {}) {
  const { source } = await call<ResponseOf<'bulwark:sources.add'>>(at, 'sources.add', {
    name,
    paths: [folder],
    quietSeconds: 1,
    ...extra,
  });
  return source.id;
}

/** Light and dark screenshots of the page as it is now (the page follows the system theme). */
async function shots(page: Page, name: string, fullPage = false): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForTimeout(100);
    await page.screenshot({ path: path.join(SHOTS, `restore-${name}-${scheme}.png`), fullPage });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

async function open(context: BrowserContext, at: Serve = main): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content.Security.Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(at.serve.pageUrl);
  await expect
    .poll(() => page.locator('.statusbar').getAttribute('data-state'), { timeout: 20_000 })
    .not.toBe('checking');
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Restore', exact: true })
    .click();
  await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Restore');
  return { page, problems };
}

/** Chooses a react-aria radio or checkbox the way a person does: by its visible label (the input is hidden). */
async function pick(control: Locator): Promise<void> {
  await control.locator('xpath=ancestor::label[1]').click();
  await expect.poll(() => control.isChecked()).toBe(true);
}

/** Chooses an option of the design system's Select (a button that opens a list box). */
async function choose(page: Page, field: Locator, option: string): Promise<void> {
  await field.getByRole('button').click();
  await page.getByRole('option', { name: option, exact: true }).click();
  await expect.poll(() => field.getByRole('button').textContent()).toContain(option);
}

const read = (...p: string[]) => fs.readFileSync(path.join(...p));

beforeAll(async () => {
  ensureRendererBuilt();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-restore-'));
  home = path.join(tmp, 'user');
  {
    fs.mkdirSync(path.join(home, 'Office', 'Invoices'), { recursive: true });
    fs.writeFileSync(path.join(home, 'Office', 'Invoices', 'invoice-2026-02.xlsx'), randomBytes(20_000));
    fs.writeFileSync(path.join(home, 'Office', 'Invoices', 'invoice-2026-03.xlsx'), randomBytes(30_000));
    fs.writeFileSync(
      path.join(home, 'Office', 'notes.txt'),
      'Meeting notes\nCall the accountant on Monday.\n',
    );
    fs.mkdirSync(path.join(home, 'Reports'), { recursive: true });
    fs.mkdirSync(path.join(home, 'Projects'), { recursive: true });
    for (const name of ['budget.txt', 'plan.txt', 'minutes.txt', 'logo.png', 'todo.txt'])
      fs.writeFileSync(path.join(home, 'Projects', name), `${name}\n${randomBytes(500).toString('hex')}\n`);
  }
  main = endpoint(
    await startServe(
      childEnv({
        HOME: home,
        BULWARK_HOME: path.join(tmp, 'bulwark-home'),
        BULWARK_KDF_N: '1024',
        NODE_COMPILE_CACHE: path.join(tmp, 'node-compile-cache'),
      }),
    ),
  );
  for (const name of ['Office', 'Reports', 'Projects'])
    ids[name] = await addSource(main, name, path.join(home, name));
  for (const name of ['Office', 'Reports', 'Projects']) await idle(main, ids[name]!);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  if (main) await main.serve.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('restore against the real service', () => {
  it('(a) a deleted invoice: found by part of its name, put back where it was, the same bytes', async () => {
    const file = path.join(home, 'Office', 'Invoices', 'invoice-2026-02.xlsx');
    const bytes = read(file);
    fs.rmSync(file);
    await backupNow(ids.Office!);
    await idle(main, ids.Office!);

    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const { page, problems } = await open(context);
    await page.getByRole('searchbox', { name: 'Find a file', exact: true }).fill('2026-02');
    const results = page.getByRole('list', { name: 'Files matching 2026-02' });
    await expect.poll(() => results.getByRole('listitem').count(), { timeout: 10_000 }).toBe(1);
    const result = results.locator('.find-result').first();
    expect(await result.locator('.find-result__name').textContent()).toBe('invoice-2026-02.xlsx');
    expect(await result.textContent()).toContain('Deleted');
    expect(await result.textContent()).toContain(path.join(home, 'Office', 'Invoices'));
    await shots(page, 'a-found');

    await results.getByRole('button', { name: /^invoice-2026-02\.xlsx/ }).click();
    const timeline = page.getByRole('list', { name: 'Versions of invoice-2026-02.xlsx' });
    await expect.poll(() => timeline.getByRole('listitem').count()).toBe(1);
    expect(await timeline.textContent()).toContain('deleted by');
    await timeline.getByRole('button', { name: /^Restore invoice-2026-02\.xlsx, version of/ }).click();

    const dialog = page.getByRole('dialog', { name: 'Restore invoice-2026-02.xlsx' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    // the original place is the default
    expect(await dialog.getByRole('radio', { name: /Back where they were/ }).isChecked()).toBe(true);
    await dialog.getByRole('button', { name: 'Next: check what will happen' }).click();
    await expect.poll(() => dialog.textContent(), { timeout: 10_000 }).toContain('1 file to create');
    expect(await dialog.textContent()).toContain('0 files there now with different content');
    // nothing is written before Restore is pressed
    expect(fs.existsSync(file)).toBe(false);
    await shots(page, 'a-plan');
    await dialog.getByRole('button', { name: 'Restore 1 file' }).click();
    await expect.poll(() => dialog.textContent(), { timeout: 30_000 }).toMatch(/Restored1 file/);
    expect(await dialog.textContent()).toContain(path.join(home, 'Office'));
    await shots(page, 'a-done');
    expect(read(file).equals(bytes)).toBe(true);
    await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();
    await expect.poll(() => dialog.count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('(b) a spreadsheet saved over three times: three versions, the middle one restored beside it', async () => {
    const file = path.join(home, 'Reports', 'report.xlsx');
    const saves = [randomBytes(12_000), randomBytes(15_000), randomBytes(18_000)];
    for (const [i, bytes] of saves.entries()) {
      fs.writeFileSync(file, bytes);
      // saved on three different days: the timeline tells them apart
      const when = new Date(Date.UTC(2026, 2, 2 + i, 9 + i, 15));
      fs.utimesSync(file, when, when);
      await backupNow(ids.Reports!);
    }
    await idle(main, ids.Reports!);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
    const { page, problems } = await open(context);
    await page.getByRole('searchbox', { name: 'Find a file', exact: true }).fill('report');
    const results = page.getByRole('list', { name: 'Files matching report' });
    await expect.poll(() => results.getByRole('listitem').count(), { timeout: 10_000 }).toBe(1);
    expect(await results.textContent()).toContain('3 versions');
    await results.getByRole('button', { name: /^report\.xlsx/ }).click();
    const timeline = page.getByRole('list', { name: 'Versions of report.xlsx' });
    await expect.poll(() => timeline.getByRole('listitem').count()).toBe(3);
    // newest first, each with its size
    const sizes = await timeline.locator('.version__meta').allTextContents();
    expect(sizes.map((s) => s.split(' · ')[0])).toEqual(['18.0 kB', '15.0 kB', '12.0 kB']);
    expect(await timeline.getByRole('listitem').first().textContent()).toContain('Current');
    await shots(page, 'b-timeline');

    await timeline
      .getByRole('listitem')
      .nth(1)
      .getByRole('button', { name: /^Restore report\.xlsx, version of/ })
      .click();
    const dialog = page.getByRole('dialog', { name: 'Restore report.xlsx' });
    await dialog.getByRole('button', { name: 'Next: check what will happen' }).click();
    await expect
      .poll(() => dialog.textContent(), { timeout: 10_000 })
      .toContain('1 file there now with different content');
    const conflicts = dialog.getByRole('list', { name: 'Files that differ' });
    expect(await conflicts.textContent()).toContain(file);
    expect(await dialog.getByRole('radio', { name: /Keep both/ }).isChecked()).toBe(true);
    await shots(page, 'b-plan');
    await dialog.getByRole('button', { name: 'Restore 1 file' }).click();
    await expect.poll(() => dialog.textContent(), { timeout: 30_000 }).toMatch(/Restored1 file/);
    expect(await dialog.textContent()).toMatch(/Saved next to the existing one1 file/);
    await shots(page, 'b-done');

    // the current file is untouched; the middle version sits beside it, dated in its name
    expect(read(file).equals(saves[2]!)).toBe(true);
    const restored = fs.readdirSync(path.dirname(file)).filter((n) => n !== 'report.xlsx');
    expect(restored).toHaveLength(1);
    expect(restored[0]).toMatch(/^report \(restored \d{4}-\d{2}-\d{2} \d{2}\.\d{2}\)\.xlsx$/);
    expect(read(path.dirname(file), restored[0]!).equals(saves[1]!)).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('(c) into a folder where two files differ: exactly those two are listed; "skip" leaves them as they are', async () => {
    const into = path.join(tmp, 'restore-here');
    fs.mkdirSync(into, { recursive: true });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page, problems } = await open(context);
    await page.getByRole('tab', { name: 'Browse a point in time' }).click();
    const folderField = page.locator('.browse__pick .field', {
      has: page.getByText('Folder', { exact: true }),
    });
    await expect.poll(() => folderField.count(), { timeout: 10_000 }).toBe(1);
    await choose(page, folderField, 'Projects');
    const items = page.getByRole('list', { name: 'Items in Projects' });
    await expect.poll(() => items.getByRole('listitem').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    const names = await items.locator('.entry__name').allTextContents();

    // what restoring the whole backup into `into` writes, found by asking the service for the plan first
    const snapshots = await call<ResponseOf<'bulwark:snapshots.list'>>(main, 'snapshots.list', {
      sourceId: ids.Projects,
    });
    const probe = await call<ResponseOf<'bulwark:restore.plan'>>(main, 'restore.plan', {
      sourceId: ids.Projects,
      snapshotId: snapshots.snapshots[0]!.id,
      paths: [''],
      destination: { kind: 'folder', path: into },
    });
    const where = (name: string) => probe.items.find((i) => i.path.endsWith(name))!.destination;
    expect(probe.items).toHaveLength(5);
    expect(names.length).toBeGreaterThan(0);
    // two files there now differ, one is the same, two are missing
    const source = (name: string) => read(home, 'Projects', name);
    for (const name of ['budget.txt', 'plan.txt', 'minutes.txt'])
      fs.mkdirSync(path.dirname(where(name)), { recursive: true });
    fs.writeFileSync(where('budget.txt'), 'our own budget, changed since\n');
    fs.writeFileSync(where('plan.txt'), 'the new plan\n');
    // a copy with its time kept (as a copy made by Explorer or `cp -p`): the same file
    fs.copyFileSync(path.join(home, 'Projects', 'minutes.txt'), where('minutes.txt'));
    const { mtime } = fs.statSync(path.join(home, 'Projects', 'minutes.txt'));
    fs.utimesSync(where('minutes.txt'), mtime, mtime);
    const before = { budget: read(where('budget.txt')), plan: read(where('plan.txt')) };

    await page.getByRole('button', { name: 'Restore all of Projects…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restore Projects' });
    await pick(dialog.getByRole('radio', { name: /Into another folder/ }));
    await dialog.getByRole('button', { name: 'Choose a folder…' }).click();
    const picker = page.getByRole('dialog', { name: 'Restore into which folder?' });
    await picker.getByLabel('Or type the folder’s full path').fill(into);
    await picker.getByRole('button', { name: 'Use this path' }).click();
    await expect.poll(() => dialog.textContent()).toContain(into);
    await dialog.getByRole('button', { name: 'Next: check what will happen' }).click();
    await expect
      .poll(() => dialog.textContent(), { timeout: 10_000 })
      .toContain('2 files there now with different content');
    expect(await dialog.textContent()).toContain('2 files to create');
    expect(await dialog.textContent()).toContain('1 file already there, the same (left alone)');
    const conflicts = dialog.getByRole('list', { name: 'Files that differ' });
    const listed = await conflicts.locator('.conflict__path').allTextContents();
    expect(listed.sort()).toEqual([where('budget.txt'), where('plan.txt')].sort());
    await pick(dialog.getByRole('radio', { name: /Skip them/ }));
    await shots(page, 'c-conflicts');
    await dialog.getByRole('button', { name: 'Restore 5 files' }).click();
    await expect.poll(() => dialog.textContent(), { timeout: 30_000 }).toMatch(/Restored2 files/);
    expect(await dialog.textContent()).toMatch(/Left alone3 files/);
    await shots(page, 'c-done');

    // the two that differ are untouched; the missing ones are restored with their bytes
    expect(read(where('budget.txt')).equals(before.budget)).toBe(true);
    expect(read(where('plan.txt')).equals(before.plan)).toBe(true);
    for (const name of ['minutes.txt', 'logo.png', 'todo.txt'])
      expect(read(where(name)).equals(source(name)), name).toBe(true);
    // nothing else was written (no "restored" copies: skip means skip)
    expect(fs.readdirSync(path.dirname(where('budget.txt'))).sort()).toEqual([
      'budget.txt',
      'logo.png',
      'minutes.txt',
      'plan.txt',
      'todo.txt',
    ]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('(d) a folder of 100 000 entries: fewer than 500 rows in the page, and it scrolls to its last entry', async () => {
    const many = path.join(home, 'Big', 'many');
    fs.mkdirSync(many, { recursive: true });
    fs.writeFileSync(path.join(home, 'Big', 'readme.txt'), 'a big folder\n');
    const name = (i: number) => `file-${String(i).padStart(6, '0')}.txt`;
    for (let i = 0; i < BIG_FOLDER_SIZE; i++) fs.writeFileSync(path.join(many, name(i)), '');
    const started = Date.now();
    ids.Big = await addSource(main, 'Archive', path.join(home, 'Big'));
    // a minute or more on a 2-core machine
    await idle(main, ids.Big, 420_000);
    console.log(`backup of ${BIG_FOLDER_SIZE} files: ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
    const { page, problems } = await open(context);
    await page.getByRole('tab', { name: 'Browse a point in time' }).click();
    const folderField = page.locator('.browse__pick .field', {
      has: page.getByText('Folder', { exact: true }),
    });
    await expect.poll(() => folderField.count(), { timeout: 10_000 }).toBe(1);
    await choose(page, folderField, 'Archive');
    // the backup holds the folder it was made of, by its name on disk
    const top = page.getByRole('list', { name: 'Items in Archive' });
    await expect.poll(() => top.getByRole('listitem').count(), { timeout: 10_000 }).toBe(1);
    await top.getByRole('button', { name: 'Open folder Big' }).click();
    const big = page.getByRole('list', { name: 'Items in Big' });
    await expect.poll(() => big.getByRole('listitem').count(), { timeout: 10_000 }).toBe(2);
    // folders first
    expect(await big.locator('.entry__name').allTextContents()).toEqual(['many', 'readme.txt']);
    await big.getByRole('button', { name: 'Open folder many' }).click();
    const list = page.getByRole('list', { name: 'Items in many' });
    await expect.poll(() => list.getByRole('listitem').count(), { timeout: 60_000 }).toBeGreaterThan(5);
    expect(await page.locator('.folder__count').textContent()).toContain('100,000 items');
    expect(await page.locator('.vlist__row').count()).toBeLessThan(500);
    expect(await list.getByRole('listitem').first().getAttribute('aria-setsize')).toBe(
      String(BIG_FOLDER_SIZE),
    );
    await shots(page, 'd-browse');

    const asked: number[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/restore.browse')) asked.push(Number(r.postDataJSON()?.offset ?? 0));
    });
    const scrolled = Date.now();
    await page.locator('.vlist').evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    const last = list.getByRole('button', { name: `Preview ${name(BIG_FOLDER_SIZE - 1)}` });
    await expect.poll(() => last.isVisible(), { timeout: 20_000 }).toBe(true);
    console.log(`scrolled to the end of ${BIG_FOLDER_SIZE} entries in ${Date.now() - scrolled} ms`);
    expect(await page.locator('.vlist__row').count()).toBeLessThan(500);
    expect(await list.getByRole('listitem').last().getAttribute('aria-posinset')).toBe(
      String(BIG_FOLDER_SIZE),
    );
    // only the pages in view were asked for, not the 500 between
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.length).toBeLessThan(6);
    await shots(page, 'd-end');

    // a file at the end restores like any other (into another folder): its bytes are there
    await pick(list.getByRole('checkbox', { name: `Select ${name(BIG_FOLDER_SIZE - 1)}` }));
    await page.getByRole('button', { name: 'Restore 1 selected…' }).click();
    const dialog = page.getByRole('dialog', { name: `Restore ${name(BIG_FOLDER_SIZE - 1)}` });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  }, 600_000);
});

describe('restore: the designed states, produced for real', () => {
  let second: Serve;
  let nas: string;

  beforeAll(async () => {
    const userHome = path.join(tmp, 'user2');
    for (const name of ['Empty', 'Shared']) fs.mkdirSync(path.join(userHome, name), { recursive: true });
    fs.writeFileSync(path.join(userHome, 'Shared', 'price-list.txt'), 'prices\n');
    nas = path.join(tmp, 'nas');
    fs.mkdirSync(nas);
    second = endpoint(
      await startServe(
        childEnv({
          HOME: userHome,
          BULWARK_HOME: path.join(tmp, 'bulwark-home-2'),
          BULWARK_KDF_N: '1024',
          NODE_COMPILE_CACHE: path.join(tmp, 'node-compile-cache'),
        }),
      ),
    );
    // a folder that is not backed up yet (paused before its first backup) and one backed up to a "NAS"
    await addSource(second, 'Empty', path.join(userHome, 'Empty'), { enabled: false });
    const { target } = await call<ResponseOf<'bulwark:targets.add'>>(second, 'targets.add', {
      kind: 'fs',
      name: 'Office NAS',
      path: path.join(nas, 'backups'),
      password: 'correct horse battery staple',
    });
    const shared = await addSource(second, 'Shared', path.join(userHome, 'Shared'), { targetId: target.id });
    await idle(second, shared);
  });

  afterAll(async () => {
    if (second) await second.serve.stop();
  });

  it('no backups yet: every way in says so, and nothing to restore is offered', async () => {
    const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
    const { page, problems } = await open(context, second);
    await page.getByRole('searchbox', { name: 'Find a file', exact: true }).fill('zzz-nothing');
    await expect
      .poll(() => page.getByRole('heading', { name: 'No file matches “zzz-nothing”' }).count(), {
        timeout: 10_000,
      })
      .toBe(1);
    await shots(page, 'empty-find-800x600');
    await page.getByRole('tab', { name: 'Browse a point in time' }).click();
    await expect
      .poll(() => page.getByRole('heading', { name: 'No backups of Empty yet' }).count(), { timeout: 10_000 })
      .toBe(1);
    expect(await page.getByRole('button', { name: /^Restore all of/ }).count()).toBe(0);
    await shots(page, 'empty-browse-800x600');
    await page.getByRole('tab', { name: 'Restore everything' }).click();
    await expect
      .poll(() => page.getByRole('heading', { name: 'No backups of Empty yet' }).count(), { timeout: 10_000 })
      .toBe(1);
    expect(await page.getByRole('button', { name: 'Choose where to restore…' }).count()).toBe(0);
    await shots(page, 'empty-everything-800x600');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('the backup storage is offline (the NAS folder vanished): plain words, no advice to create one; it works again once back', async () => {
    const offline = `${nas}-unplugged`;
    fs.renameSync(nas, offline);
    try {
      const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
      const { page, problems } = await open(context, second);
      const plain = (text: string | null) => {
        expect(text).toContain('The backup storage could not be found');
        expect(text).toContain('Check that the drive, network share or cloud storage is connected.');
        // no code, no command, no advice to create a repository where the backups should be
        expect(text).not.toMatch(/[A-Z]{2,}_[A-Z]+|bulwark init|create/i);
      };
      // a search across every backup needs every backup storage: it says which problem, in plain words
      await page.getByRole('searchbox', { name: 'Find a file', exact: true }).fill('price');
      const searchFailed = page.getByRole('alert').filter({ hasText: 'Could not search the backups' });
      await expect.poll(() => searchFailed.count(), { timeout: 20_000 }).toBe(1);
      plain(await searchFailed.locator('.state__text').textContent());
      await shots(page, 'offline-find-800x600');

      // plugged in again: Try again finds the file
      fs.renameSync(offline, nas);
      await searchFailed.getByRole('button', { name: 'Try again' }).click();
      const results = page.getByRole('list', { name: 'Files matching price' });
      await expect.poll(() => results.getByRole('listitem').count(), { timeout: 20_000 }).toBe(1);
      await results.getByRole('button', { name: /^price-list\.txt/ }).click();
      const timeline = page.getByRole('list', { name: 'Versions of price-list.txt' });
      await expect.poll(() => timeline.getByRole('listitem').count()).toBe(1);
      fs.renameSync(nas, offline);

      // ... but its bytes are on the NAS: the preview says why it cannot show them
      await timeline.getByRole('button', { name: /^Preview price-list\.txt/ }).click();
      const preview = page.getByRole('region', { name: /Preview of/ });
      const failed = preview.getByRole('alert');
      await expect
        .poll(() => failed.textContent(), { timeout: 20_000 })
        .toContain('Could not show this file');
      plain(await failed.locator('.state__text').textContent());
      await shots(page, 'offline-preview-800x600');

      // and the restore stops before anything is written, in the same words
      await timeline.getByRole('button', { name: /^Restore price-list\.txt/ }).click();
      const dialog = page.getByRole('dialog', { name: 'Restore price-list.txt' });
      await dialog.getByRole('button', { name: 'Next: check what will happen' }).click();
      const refused = dialog.getByRole('alert').filter({ hasText: 'Could not prepare the restore' });
      await expect.poll(() => refused.count(), { timeout: 20_000 }).toBe(1);
      plain(await refused.textContent());
      await shots(page, 'offline-plan-800x600');

      // the NAS is back: the same button goes on
      fs.renameSync(offline, nas);
      await dialog.getByRole('button', { name: 'Next: check what will happen' }).click();
      await expect.poll(() => dialog.textContent(), { timeout: 20_000 }).toContain('1 file already there');
      await dialog.getByRole('button', { name: 'Back' }).click();
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      expect(problems.filter((p) => !/Failed to load resource/.test(p))).toEqual([]);
      await context.close();
    } finally {
      if (fs.existsSync(offline)) fs.renameSync(offline, nas);
    }
  });
});
