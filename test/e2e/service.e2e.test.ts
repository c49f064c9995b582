import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

import type { EventName, EventOf, ResponseOf } from '../../src-main/contract/ipc.ts';
import {
  bulwark,
  CHROMIUM,
  CHROMIUM_ARGS,
  childEnv,
  ensureRendererBuilt,
  rssOf,
  screenshot,
  startServe,
  type ServeChild,
  callApi,
  waitFor,
} from './helpers.ts';

// Unattended protection end to end (issue 6, must-show 1): a real `bulwark serve` child with a temp HOME and
// BULWARK_HOME runs the backup service on the embedded default repository. A folder added over the HTTP
// API is watched: files written into it are in a snapshot within the quiet period plus a few seconds, and
// the WebSocket carries job.state and job.progress. Then Chromium shows the source as protected.

const QUIET_SECONDS = 1;
/** from the last write to the snapshot being listed: the quiet period plus this */
const SLACK_MS = 7_000;

type Received = { [E in EventName]: { event: E; payload: EventOf<E> } }[EventName];

let tmp: string;
let env: NodeJS.ProcessEnv;
let serve: ServeChild;
let origin: string;
let token: string;
let ws: WebSocket;
const received: Received[] = [];
let browser: Browser | undefined;

const call = <T>(channel: string, body: unknown = {}): Promise<T> => callApi<T>(origin, token, channel, body);

const until = <T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 30_000,
): Promise<T> => waitFor(probe, what, { timeoutMs, intervalMs: 100, stderr: () => serve.stderr() });

const jobStates = (sourceId: string) =>
  received.flatMap((r) =>
    r.event === 'bulwark:job.state' && r.payload.sourceId === sourceId ? [r.payload] : [],
  );

beforeAll(async () => {
  ensureRendererBuilt();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  const userHome = path.join(tmp, 'user');
  fs.mkdirSync(userHome);
  env = childEnv({
    HOME: userHome,
    BULWARK_HOME: path.join(tmp, 'bulwark-home'),
    BULWARK_KDF_N: '1024',
    NODE_COMPILE_CACHE: path.join(tmp, 'node-compile-cache'),
  });
  serve = await startServe(env);
  const url = new URL(serve.pageUrl);
  origin = url.origin;
  token = url.hash.replace('#token=', '');
  ws = new WebSocket(`${origin.replace('http:', 'ws:')}/api/events`, ['bulwark', `bulwark.${token}`]);
  ws.on('message', (data: Buffer) => received.push(JSON.parse(data.toString('utf8')) as Received));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
});

afterAll(async () => {
  ws?.close();
  await browser?.close();
  if (serve) {
    expect(await serve.stop()).toBe(0);
    expect(serve.stderr()).toContain('bulwark serve: stopped');
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('bulwark serve runs the backup service', () => {
  let sourceId: string;
  let docs: string;

  it('starts with the embedded default repository as its target (no cloud needed)', async () => {
    const status = await call<ResponseOf<'bulwark:service.status'>>('service.status');
    expect(status).toMatchObject({ started: true, paused: false, sources: [] });
    expect(status.targets).toMatchObject([
      {
        id: 'default',
        isDefault: true,
        kind: 'fs',
        location: path.join(tmp, 'bulwark-home', 'data', 'repository'),
        immutability: 'worm-folder',
      },
    ]);
    expect(
      fs.statSync(path.join(tmp, 'bulwark-home', 'config', 'default-repository.password')).mode & 0o777,
    ).toBe(0o600);
  });

  it('a folder added over the API is backed up; files written into it are in a snapshot within seconds', async () => {
    docs = path.join(tmp, 'user', 'Office documents');
    fs.mkdirSync(docs);
    fs.writeFileSync(path.join(docs, 'readme.txt'), 'the office files\n');

    const { source } = await call<ResponseOf<'bulwark:sources.add'>>('sources.add', {
      name: 'Office documents',
      paths: [docs],
      exclude: ['*.tmp'],
      quietSeconds: QUIET_SECONDS,
    });
    sourceId = source.id;
    expect(source).toMatchObject({ targetId: 'default', quietSeconds: QUIET_SECONDS, exclude: ['*.tmp'] });

    // the first backup starts at once; then the watcher is live
    await until(() => jobStates(sourceId).find((s) => s.state === 'succeeded'), 'the first backup');
    await until(async () => {
      const { sources } = await call<ResponseOf<'bulwark:sources.list'>>('sources.list');
      const s = sources[0];
      return s?.watch?.mode === 'live' && s.rpoState === 'ok' && !s.job ? s : undefined;
    }, 'the watcher to be live');
    const before = received.length;

    const names = Array.from({ length: 40 }, (_, i) => `invoice-2026-${String(i + 1).padStart(3, '0')}.txt`);
    for (const name of names) fs.writeFileSync(path.join(docs, name), `invoice ${name}\n`.repeat(200));
    fs.writeFileSync(path.join(docs, 'scratch.tmp'), 'left out');
    const written = Date.now();

    const snap = await until(async () => {
      const { snapshots } = await call<ResponseOf<'bulwark:snapshots.list'>>('snapshots.list', { sourceId });
      return snapshots.find((x) => x.stats.files === names.length + 1);
    }, 'the snapshot with the new files');
    const elapsed = Date.now() - written;
    // the snapshot is committed a moment before the job reports it
    await until(
      () => jobStates(sourceId).find((s) => s.state === 'succeeded' && s.snapshotId === snap.id),
      'the run to finish',
    );
    console.log(
      `[service e2e] files written → snapshot listed in ${elapsed} ms (quiet period ${QUIET_SECONDS} s)`,
    );
    expect(elapsed).toBeLessThan(QUIET_SECONDS * 1000 + SLACK_MS);
    expect(snap).toMatchObject({ source: 'Office documents', sourceId, paths: [docs] });

    // exactly one run for the burst, announced on the WebSocket with its progress
    const after = received.slice(before);
    const watchRun = after.flatMap((r) =>
      r.event === 'bulwark:job.state' && r.payload.sourceId === sourceId ? [r.payload] : [],
    );
    expect(watchRun.map((s) => s.state)).toEqual(['queued', 'running', 'succeeded']);
    expect(new Set(watchRun.map((s) => s.jobId)).size).toBe(1);
    expect(watchRun[0]?.reason).toBe('watch');
    expect(watchRun[2]?.snapshotId).toBe(snap.id);
    const progress = after.filter(
      (r) => r.event === 'bulwark:job.progress' && r.payload.jobId === watchRun[0]?.jobId,
    );
    expect(progress.length).toBeGreaterThan(0);
    expect(after.some((r) => r.event === 'bulwark:source.changed' && r.payload.sourceId === sourceId)).toBe(
      true,
    );

    // the snapshot holds the files (the CLI reads the same default repository)
    const ls = bulwark(env, ['ls', snap.id, '--json']);
    expect(ls.status, ls.stderr).toBe(0);
    const paths = (JSON.parse(ls.stdout) as { path: string }[]).map((e) => path.basename(e.path));
    for (const name of [...names, 'readme.txt']) expect(paths).toContain(name);
    expect(paths).not.toContain('scratch.tmp');

    const rss = rssOf(serve.child.pid ?? 0);
    if (rss)
      console.log(
        `[service e2e] bulwark serve RSS ${rss.rssMiB.toFixed(0)} MiB (peak ${rss.peakMiB.toFixed(0)} MiB)`,
      );
  });

  it('Chromium shows the source as the service judges it, with its backups; a folder added in the UI is backed up too', async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
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
    await page.goto(serve.pageUrl);
    const nav = page.getByRole('navigation', { name: 'Main' });

    // the card says what the service says (the built-in target is on the same disk: never shown greener)
    const listed = (await call<ResponseOf<'bulwark:sources.list'>>('sources.list')).sources.find(
      (x) => x.id === sourceId,
    );
    const card = page.locator(`article[data-source-id="${sourceId}"]`);
    await expect
      .poll(() => card.getAttribute('data-protection'), { timeout: 20_000 })
      .toBe(listed?.protection.state);
    const text = (await card.textContent()) ?? '';
    expect(text).toContain('Office documents');
    expect(text).toContain('Watching for changes');
    expect(text).toContain('Backs up within 1 hour of a change');
    await nav.getByRole('link', { name: 'Sources', exact: true }).click();
    const row = page.locator(`li[data-source-id="${sourceId}"]`);
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain(docs);
    // its backups are the points in time of the Restore page
    await nav.getByRole('link', { name: 'Restore', exact: true }).click();
    await page.getByRole('tab', { name: 'Browse a point in time' }).click();
    const times = page.getByRole('listbox', { name: 'Time' });
    await expect.poll(() => times.getByRole('option').count(), { timeout: 20_000 }).toBe(2);
    await nav.getByRole('link', { name: 'Alerts', exact: true }).click();
    await expect.poll(() => page.getByRole('main').textContent()).toContain('No open alerts');
    await nav.getByRole('link', { name: 'Overview', exact: true }).click();
    await screenshot(page, tmp, 'service-dashboard.png');

    // add a second folder through the form: it appears, is backed up and shows what the service says
    const scans = path.join(tmp, 'user', 'Scans');
    fs.mkdirSync(scans);
    fs.writeFileSync(path.join(scans, 'contract.pdf'), 'pdf'.repeat(1000));
    await nav.getByRole('link', { name: 'Sources', exact: true }).click();
    await page.getByRole('button', { name: 'Add a folder' }).first().click();
    const form = page.getByRole('dialog', { name: 'Add a folder to protect' });
    await form.getByRole('button', { name: 'Choose a folder…' }).click();
    const picker = page.getByRole('dialog', { name: 'Choose a folder' });
    await picker.getByLabel('Or type the folder’s full path').fill(scans);
    await picker.getByRole('button', { name: 'Use this path' }).click();
    // the name comes from the folder
    await expect.poll(() => form.getByLabel('Name').inputValue()).toBe('Scans');
    await form.getByRole('button', { name: /Back up at least/ }).click();
    await page.getByRole('option', { name: 'Every 15 minutes' }).click();
    await form.getByRole('button', { name: 'Add and protect' }).click();
    await expect.poll(() => form.count(), { timeout: 10_000 }).toBe(0);
    const scansRow = page.locator('li.source-row', { hasText: 'Scans' });
    await expect
      .poll(() => scansRow.textContent(), { timeout: 30_000 })
      .toMatch(/Last backup (just now|1 minute ago)/);
    expect(await scansRow.textContent()).toContain('Backs up within 15 minutes of a change');
    const added = (await call<ResponseOf<'bulwark:sources.list'>>('sources.list')).sources.find(
      (x) => x.name === 'Scans',
    );
    expect(added).toMatchObject({ rpoMinutes: 15, paths: [scans] });
    await expect.poll(() => scansRow.getAttribute('data-protection')).toBe(added?.protection.state);

    // an empty form is refused in plain words, before anything is sent
    await page.getByRole('button', { name: 'Add a folder' }).first().click();
    await form.getByRole('button', { name: 'Add and protect' }).click();
    await expect.poll(() => form.textContent()).toContain('Choose at least one folder.');
    await form.getByRole('button', { name: 'Cancel' }).click();

    // the recent activity lists the runs
    await nav.getByRole('link', { name: 'Overview', exact: true }).click();
    const activity = page.getByRole('region', { name: 'Recent activity' });
    await expect
      .poll(() => activity.getByRole('listitem').count(), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(3);
    await screenshot(page, tmp, 'service-dashboard-two-sources.png');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('a running job shows its progress; pause all interrupts it, resume continues it, cancel stops it', async () => {
    // a NAS-like folder target limited to 256 KiB/s, so the backup of 3 MiB takes a while
    const { target } = await call<ResponseOf<'bulwark:targets.add'>>('targets.add', {
      kind: 'fs',
      path: path.join(tmp, 'nas'),
      name: 'NAS',
      password: 'a password kept by the service',
      bytesPerSecond: 256 * 1024,
    });
    expect(JSON.stringify(target)).not.toContain('a password kept by the service');
    const media = path.join(tmp, 'user', 'Media');
    fs.mkdirSync(media);
    fs.writeFileSync(path.join(media, 'video.bin'), randomBytes(3 * 1024 * 1024));

    const context = await browser!.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    await page.goto(serve.pageUrl);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect.poll(() => nav.getByRole('link').count(), { timeout: 20_000 }).toBe(7);

    const { source } = await call<ResponseOf<'bulwark:sources.add'>>('sources.add', {
      name: 'Media',
      paths: [media],
      targetId: target.id,
    });
    const card = page.locator(`article[data-source-id="${source.id}"]`);
    const bar = card.getByRole('progressbar');
    // the bar fills as the file is read (bytes, files, a rounded rate); then the throttled upload holds it
    // (a loaded machine can spend a while opening the throttled target before the first byte is read)
    await expect
      .poll(() => bar.getAttribute('aria-valuenow'), { timeout: 60_000 })
      .toBe(String(3 * 1024 * 1024));
    const facts = (await card.textContent()) ?? '';
    expect(facts).toContain('3.1 MB of 3.1 MB');
    expect(facts).toContain('1 of 1 file');
    expect(facts).toMatch(/\d+(\.\d)? (kB|MB)\/s/);
    expect(facts).not.toMatch(/\d\.\d{2,} ?[kMG]?B/);
    await screenshot(page, tmp, 'service-job-progress.png');

    // pause all (Settings): the running job is interrupted and waits; the overview says backups are paused
    await nav.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByRole('button', { name: 'Pause all backups' }).click();
    await expect
      .poll(() => page.getByRole('button', { name: 'Resume all backups' }).count(), { timeout: 10_000 })
      .toBe(1);
    await until(
      () => jobStates(source.id).find((s) => s.state === 'interrupted'),
      'the job to be interrupted',
    );
    expect((await call<ResponseOf<'bulwark:service.status'>>('service.status')).paused).toBe(true);
    await nav.getByRole('link', { name: 'Overview', exact: true }).click();
    await expect.poll(() => page.getByRole('main').textContent()).toContain('Backups are paused');
    await expect.poll(() => card.textContent(), { timeout: 10_000 }).toContain('Waiting to start');
    await screenshot(page, tmp, 'service-paused.png');

    // resume: it continues; cancel stops it and the repository stays valid
    await page.getByRole('button', { name: 'Resume backups' }).click();
    await expect.poll(() => bar.count(), { timeout: 20_000 }).toBe(1);
    await card.getByRole('button', { name: 'Stop backing up Media' }).click();
    await expect.poll(() => bar.count(), { timeout: 20_000 }).toBe(0);
    const states = jobStates(source.id).map((s) => s.state);
    expect(states.slice(-2)).toEqual(['canceling', 'canceled']);
    const verify = bulwark({ ...env, BULWARK_PASSWORD: 'a password kept by the service' }, [
      'verify',
      '--repo',
      path.join(tmp, 'nas'),
    ]);
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    await context.close();
  });

  it('an alert shows its severity and what to do; acknowledged, then resolved into the history', async () => {
    const context = await browser!.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    await page.goto(serve.pageUrl);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Alerts', exact: true }).click();
    const main = page.getByRole('main');
    await expect.poll(() => main.textContent(), { timeout: 20_000 }).toContain('No open alerts');

    // a folder on a drive that is then unplugged: the watcher loses it and the next backup fails
    const usb = path.join(tmp, 'user', 'USB stick');
    fs.mkdirSync(usb);
    fs.writeFileSync(path.join(usb, 'first.jpg'), 'jpg');
    const { source } = await call<ResponseOf<'bulwark:sources.add'>>('sources.add', {
      name: 'USB stick',
      paths: [usb],
    });
    await until(
      () => jobStates(source.id).find((s) => s.state === 'succeeded'),
      'the first backup of the stick',
    );
    fs.rmSync(usb, { recursive: true });
    await call<ResponseOf<'bulwark:jobs.runNow'>>('jobs.runNow', { sourceId: source.id });
    const open = page.getByRole('list', { name: 'Open alerts' });
    const failed = open.locator('li[data-kind="source-missing"]');
    await expect.poll(() => failed.count(), { timeout: 20_000 }).toBe(1);
    const text = (await failed.textContent()) ?? '';
    expect(text).toContain('Problem');
    expect(text).toContain('of USB stick cannot be found');
    expect(text).toContain('What to do:');
    expect(text).not.toMatch(/NOT_FOUND|ENOENT/);
    // its fix is a button to the page that fixes it
    expect(await failed.getByRole('link', { name: /^Open Sources/ }).count()).toBe(1);
    // the navigation counts the open alerts
    const alertsLink = nav.getByRole('link', { name: 'Alerts', exact: true });
    await expect
      .poll(() =>
        alertsLink.evaluate(
          (el) => el.ownerDocument.getElementById(el.getAttribute('aria-describedby') ?? '')?.textContent,
        ),
      )
      .toMatch(/^\d+ open alerts?$/);
    await screenshot(page, tmp, 'service-alert.png');

    await failed
      .getByRole('button', { name: /^Acknowledge alert: The folder .* of USB stick cannot be found/ })
      .click();
    await expect.poll(() => failed.textContent(), { timeout: 10_000 }).toContain('Acknowledged');
    const active = (await call<ResponseOf<'bulwark:alerts.list'>>('alerts.list', { active: true })).alerts;
    expect(active.find((a) => a.kind === 'source-missing')?.acknowledgedAt).toBeDefined();

    // the drive is back: "Back up USB stick now" succeeds and the alerts move to the past ones
    fs.mkdirSync(usb);
    fs.writeFileSync(path.join(usb, 'photo.jpg'), 'jpg');
    await nav.getByRole('link', { name: 'Sources', exact: true }).click();
    const row = page.locator(`li[data-source-id="${source.id}"]`);
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain('cannot be found');
    expect(await row.getAttribute('data-protection')).not.toBe('protected');
    await row.getByRole('button', { name: 'Back up USB stick now' }).click();
    await expect
      .poll(() => row.textContent(), { timeout: 20_000 })
      .toMatch(/Last backup (just now|1 minute ago)/);
    // the watcher retries with backoff and finds the folder: both alerts are resolved
    await nav.getByRole('link', { name: 'Alerts', exact: true }).click();
    await expect.poll(() => main.textContent(), { timeout: 30_000 }).toContain('No open alerts');
    await page.getByRole('tab', { name: /^Past \(\d+\)$/ }).click();
    const past = await page
      .getByRole('list', { name: 'Past alerts' })
      .getByRole('listitem')
      .allTextContents();
    expect(past.length).toBeGreaterThanOrEqual(1);
    for (const item of past) expect(item).toContain('Resolved');
    expect(past.some((item) => item.includes('of USB stick cannot be found'))).toBe(true);
    await context.close();
  });
});
