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

async function call<T>(channel: string, body: unknown = {}): Promise<T> {
  const res = await fetch(`${origin}/api/${channel}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  const result = (await res.json()) as
    { ok: true; value: T } | { ok: false; error: { code: string; message: string } };
  if (!result.ok) throw new Error(`${channel}: ${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function until<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 30_000,
) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${serve.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

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
      return s?.watch?.mode === 'live' && s.protected && !s.job ? s : undefined;
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

  it('Chromium shows the source as protected, with its snapshot; a folder added in the UI is protected too', async () => {
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

    const sources = page.getByRole('region', { name: 'Sources' });
    const row = sources.locator(`tr[data-source-id="${sourceId}"]`);
    await expect.poll(() => row.getAttribute('data-protection'), { timeout: 20_000 }).toBe('protected');
    const text = (await row.textContent()) ?? '';
    expect(text).toContain('Office documents');
    expect(text).toContain('Protected');
    expect(text).toContain(docs);
    expect(text).toContain('watched live');
    const snapshots = page.getByRole('region', { name: 'Snapshots' });
    await expect.poll(() => snapshots.locator('tbody tr').count(), { timeout: 20_000 }).toBe(2);
    expect(await snapshots.textContent()).toContain('Office documents');
    expect(await page.getByRole('region', { name: 'Alerts' }).textContent()).toContain('No open alerts');
    await screenshot(page, tmp, 'service-dashboard.png');

    // add a second folder through the form: it appears, is backed up and shows as protected
    const scans = path.join(tmp, 'user', 'Scans');
    fs.mkdirSync(scans);
    fs.writeFileSync(path.join(scans, 'contract.pdf'), 'pdf'.repeat(1000));
    await sources.getByRole('button', { name: 'Add a folder' }).click();
    const form = page.getByRole('form', { name: 'Add a folder' });
    await form.getByLabel('Name').fill('Scans');
    await form.getByLabel('Folders').fill(scans);
    await form.getByLabel('Back up at least every').selectOption('15');
    await form.getByRole('button', { name: 'Add and protect' }).click();
    const scansRow = sources.locator('tr', { hasText: 'Scans' });
    await expect.poll(() => scansRow.getAttribute('data-protection'), { timeout: 30_000 }).toBe('protected');
    expect(await scansRow.textContent()).toContain('15 min');
    expect(await page.getByRole('form', { name: 'Add a folder' }).count()).toBe(0);

    // a relative path is refused in the form, with the reason
    await sources.getByRole('button', { name: 'Add a folder' }).click();
    await form.getByLabel('Name').fill('Bad');
    await form.getByLabel('Folders').fill('Documents');
    await form.getByRole('button', { name: 'Add and protect' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toMatch(/absolute path/);
    await form.getByRole('button', { name: 'Cancel' }).click();

    // the run history lists the runs
    const jobs = page.getByRole('region', { name: 'Jobs' });
    await jobs.getByText(/Recent runs/).click();
    await expect
      .poll(async () => jobs.locator('tbody tr').count(), { timeout: 10_000 })
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
    const jobs = page.getByRole('region', { name: 'Jobs' });
    await expect
      .poll(() => jobs.getByRole('button', { name: 'Pause all' }).count(), { timeout: 20_000 })
      .toBe(1);

    const { source } = await call<ResponseOf<'bulwark:sources.add'>>('sources.add', {
      name: 'Media',
      paths: [media],
      targetId: target.id,
    });
    const job = jobs.locator('.job');
    await expect.poll(() => job.getAttribute('data-state'), { timeout: 20_000 }).toBe('running');
    // the bar fills as the file is read (bytes, files, rate); then the throttled upload holds it
    const bar = job.locator('progress');
    await expect.poll(() => bar.getAttribute('value'), { timeout: 20_000 }).toBe(String(3 * 1024 * 1024));
    const facts = (await job.textContent()) ?? '';
    expect(facts).toContain('Media');
    expect(facts).toMatch(/3\.0 MiB of 3\.0 MiB/);
    expect(facts).toMatch(/1 of 1 files/);
    await screenshot(page, tmp, 'service-job-progress.png');

    // pause all: the running job is interrupted and waits; the page says backups are paused
    await jobs.getByRole('button', { name: 'Pause all' }).click();
    await expect.poll(() => jobs.getByRole('status').textContent(), { timeout: 10_000 }).toContain('paused');
    await expect.poll(() => jobs.textContent(), { timeout: 10_000 }).toMatch(/Waiting: Media \(resumed\)/);
    // the running job ends `interrupted` (it continues on resume: a new job, queued at the front)
    await until(
      () => jobStates(source.id).find((s) => s.state === 'interrupted'),
      'the job to be interrupted',
    );
    expect((await call<ResponseOf<'bulwark:service.status'>>('service.status')).paused).toBe(true);
    await screenshot(page, tmp, 'service-paused.png');

    // resume: it continues; cancel stops it and the repository stays valid
    await jobs.getByRole('button', { name: 'Resume backups' }).click();
    await expect.poll(() => job.getAttribute('data-state'), { timeout: 20_000 }).toBe('running');
    await job.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => jobs.locator('.job').count(), { timeout: 20_000 }).toBe(0);
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
    const alerts = page.getByRole('region', { name: 'Alerts' });
    await expect.poll(() => alerts.textContent(), { timeout: 20_000 }).toContain('No open alerts');

    // a folder on a drive that is not plugged in: the watcher cannot watch it and its backup fails
    const usb = path.join(tmp, 'user', 'USB stick');
    const { source } = await call<ResponseOf<'bulwark:sources.add'>>('sources.add', {
      name: 'USB stick',
      paths: [usb],
    });
    const failed = alerts.locator('li.alert[data-kind="backup-failed"]');
    await expect.poll(() => failed.count(), { timeout: 20_000 }).toBe(1);
    const text = (await failed.textContent()) ?? '';
    expect(text).toContain('Error');
    expect(text).toContain('The backup of USB stick failed');
    expect(text).toContain('What to do:');
    const degraded = alerts.locator('li.alert[data-kind="watch-degraded"]');
    await expect.poll(() => degraded.textContent(), { timeout: 20_000 }).toContain('Warning');
    const row = page.getByRole('region', { name: 'Sources' }).locator(`tr[data-source-id="${source.id}"]`);
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain('last run failed');
    await screenshot(page, tmp, 'service-alert.png');

    await failed.getByRole('button', { name: 'Acknowledge' }).click();
    await expect.poll(() => failed.textContent(), { timeout: 10_000 }).toContain('acknowledged');
    const open = (await call<ResponseOf<'bulwark:alerts.list'>>('alerts.list', { active: true })).alerts;
    expect(open.find((a) => a.kind === 'backup-failed')?.acknowledgedAt).toBeDefined();

    // the drive is back: "Back up now" succeeds and the alert moves to the history
    fs.mkdirSync(usb);
    fs.writeFileSync(path.join(usb, 'photo.jpg'), 'jpg');
    await row.getByRole('button', { name: 'Back up now' }).click();
    await expect.poll(() => row.getAttribute('data-protection'), { timeout: 20_000 }).toBe('protected');
    // the watcher retries with backoff and finds the folder: both alerts are resolved
    await expect.poll(() => alerts.textContent(), { timeout: 30_000 }).toContain('No open alerts');
    await alerts.getByText(/History \(2\)/).click();
    expect(await alerts.locator('.alerts--history li').allTextContents()).toEqual([
      expect.stringContaining('resolved'),
      expect.stringContaining('resolved'),
    ]);
    await context.close();
  });
});
