/**
 * Restore drills in the service and disaster recovery, through the shared dispatch core (the contract
 * validates every request and answer) against a real hosted BackupService on temp folders: a healthy drill
 * passes and reports a time (a drill job in jobs.list), an RTO it cannot meet raises `drill-failed` and a
 * passing one clears it, the schedule queues a weekly drill, a repository with one corrupted pack fails
 * the drill, names the files and raises the alert, and the report renders the results. Then a new
 * computer connects to the same repository (targets.connect): the folder reappears, paused, with its
 * backups, and a restore gives the files back byte for byte.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Result } from '../../src-main/contract/result.ts';
import { defaultKeyFile, FakeClock, localPaths } from '../../src-main/engine/index.ts';
import { openHostedService, type HostedService } from '../../src-main/host/service.ts';
import { dispatch, type Handlers } from '../../src-main/transport/dispatch.ts';
import { TEST_KDF } from '../engine/helpers/repo.ts';
import { tempDir } from '../engine/service/helpers/util.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

type OkValue<C extends keyof Handlers> = Extract<Awaited<ReturnType<Handlers[C]>>, { ok: true }>['value'];
type Call = <C extends keyof Handlers>(channel: C, request: unknown) => Promise<Result<OkValue<C>>>;

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

const DAY = 86_400_000;

function host(home: string, clock: FakeClock): { hosted: HostedService; call: Call } {
  const hosted = openHostedService({
    paths: localPaths({ BULWARK_HOME: home }),
    kdf: TEST_KDF,
    clock,
    tuning: { watch: { enabled: false }, backup: { readers: 2 }, progressIntervalMs: 10 },
  });
  cleanups.push(() => hosted.stop());
  const call: Call = (channel, request) =>
    dispatch(hosted.handlers as Partial<Handlers>, channel, request) as never;
  return { hosted, call };
}

function packFiles(repoDir: string): string[] {
  const out: string[] = [];
  const root = join(repoDir, 'packs');
  for (const d of readdirSync(root)) for (const f of readdirSync(join(root, d))) out.push(join(root, d, f));
  return out;
}

describe('restore drills and disaster recovery in the service', () => {
  it('runs drills as jobs, alerts on a failure or a missed RTO, and renders the report', async () => {
    const t = tempDir('drill-host');
    cleanups.push(() => t.cleanup());
    const data = join(t.dir, 'Office');
    mkdirSync(join(data, 'Invoices'), { recursive: true });
    for (let i = 0; i < 8; i++)
      writeFileSync(join(data, 'Invoices', `INV-${i}.pdf`), randomBytes(40_000 + i));
    writeFileSync(join(data, 'big.bin'), randomBytes(2_000_000));
    const clock = new FakeClock(Date.UTC(2026, 2, 2, 9, 0));
    const home = join(t.dir, 'home');
    const { hosted, call } = host(home, clock);
    await hosted.prepare();
    const source = value(await call('bulwark:sources.add', { name: 'Office', paths: [data] })).source;
    expect(source).toMatchObject({ drillEveryDays: 7, rtoMinutes: 240 });
    const backup = await hosted.service.waitForJob(
      value(await call('bulwark:jobs.runNow', { sourceId: source.id })).job.id,
    );
    expect(backup.state).toBe('SUCCEEDED');

    // a healthy drill passes and reports a time
    const job = value(await call('bulwark:drills.run', { sourceId: source.id })).job;
    expect(job.kind).toBe('drill');
    const listed = value(await call('bulwark:jobs.list', { sourceId: source.id })).jobs;
    expect(listed.some((j) => j.id === job.id && j.kind === 'drill')).toBe(true);
    expect((await hosted.service.waitForJob(job.id)).state).toBe('SUCCEEDED');
    let drills = value(await call('bulwark:drills.list', { sourceId: source.id })).drills;
    expect(drills).toHaveLength(1);
    expect(drills[0]).toMatchObject({
      passed: true,
      sourceName: 'Office',
      schedule: 'weekly',
      trigger: 'manual',
      filesTested: 9,
      filesTotal: 9,
      rtoMinutes: 240,
      rtoVerdict: 'met',
      snapshotId: backup.snapshotId,
    });
    expect(drills[0]!.restoreSeconds).toBeGreaterThan(0);
    expect(drills[0]!.estimatedFullSeconds).toBeGreaterThan(0);
    expect(hosted.service.listAlerts({ active: true }).filter((a) => a.kind === 'drill-failed')).toEqual([]);

    // an RTO no restore can meet: the drill passes, the alert says a full restore is too slow
    value(await call('bulwark:sources.update', { sourceId: source.id, rtoMinutes: 0.00001 }));
    await hosted.service.waitForJob(value(await call('bulwark:drills.run', { sourceId: source.id })).job.id);
    let alerts = value(await call('bulwark:alerts.list', { active: true, sourceId: source.id })).alerts;
    const slow = alerts.find((a) => a.kind === 'drill-failed');
    expect(slow?.text).toMatch(
      /Restoring everything of Office would take about .*, longer than the under 1 s allowed/,
    );
    expect(slow?.fix).toEqual({ page: 'sources', label: 'Open restore tests' });
    // back to 4 hours: the next drill passes within it and clears the alert
    value(await call('bulwark:sources.update', { sourceId: source.id, rtoMinutes: 240 }));
    await hosted.service.waitForJob(value(await call('bulwark:drills.run', { sourceId: source.id })).job.id);
    alerts = value(await call('bulwark:alerts.list', { active: true, sourceId: source.id })).alerts;
    expect(alerts.filter((a) => a.kind === 'drill-failed')).toEqual([]);

    // the schedule: nothing due a day later, a drill queued a week after the last one
    await hosted.start();
    await hosted.service.whenIdle();
    clock.advance(DAY);
    hosted.service.tick();
    expect(hosted.service.listJobs().filter((j) => j.kind === 'drill' && j.state === 'QUEUED')).toEqual([]);
    clock.advance(7 * DAY);
    hosted.service.tick();
    await hosted.service.whenIdle();
    drills = value(await call('bulwark:drills.list', { sourceId: source.id })).drills;
    expect(drills[0]).toMatchObject({ trigger: 'schedule', passed: true });

    // one corrupted pack: the drill fails, names the file and raises the alert
    const repoDir = join(home, 'data', 'repository');
    const largest = packFiles(repoDir).sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    chmodSync(largest, 0o644);
    const bytes = readFileSync(largest);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x5a;
    writeFileSync(largest, bytes);
    const failed = await hosted.service.waitForJob(
      value(await call('bulwark:drills.run', { sourceId: source.id })).job.id,
    );
    expect(failed.state).toBe('FAILED');
    expect(failed.error?.message).toMatch(/did not come back intact/);
    drills = value(await call('bulwark:drills.list', { sourceId: source.id })).drills;
    expect(drills[0]!.passed).toBe(false);
    expect(drills[0]!.failures.map((f) => f.path)).toContain('Office/big.bin');
    alerts = value(await call('bulwark:alerts.list', { active: true, sourceId: source.id })).alerts;
    const broken = alerts.find((a) => a.kind === 'drill-failed');
    expect(broken?.text).toContain('"Office/big.bin"');
    expect(broken?.action).toMatch(/Run the restore test again on the Sources page/);
    // protection follows the backups, not the drill (the alert says what the drill found)
    expect(hosted.service.listJobs().some((j) => j.kind === 'backup' && j.state === 'FAILED')).toBe(false);

    // the report an auditor files
    const report = value(await call('bulwark:drills.report', { sourceId: source.id }));
    expect(report.fileName).toMatch(/^restore-tests-Office-\d{4}-\d{2}-\d{2}\.html$/);
    expect(report.html).toContain('<h2>Office</h2>');
    expect(report.html).toContain('Office/big.bin');
    expect(report.html).toContain('on schedule');
    expect(report.html.match(/class="passed">Passed</g)?.length).toBe(drills.filter((d) => d.passed).length);
    expect(report.html).not.toMatch(/<script|https?:\/\//);
  });

  it('a new computer connects to the backups: the folder comes back paused and restores byte for byte', async () => {
    const t = tempDir('drill-dr');
    cleanups.push(() => t.cleanup());
    const data = join(t.dir, 'Accounts');
    mkdirSync(join(data, '2025'), { recursive: true });
    const files: Record<string, Buffer> = {
      '2025/ledger.xlsx': randomBytes(120_000),
      '2025/notes.txt': Buffer.from('VAT return due in April\n'),
      'empty.txt': Buffer.alloc(0),
    };
    for (const [p, b] of Object.entries(files)) writeFileSync(join(data, p), b);
    const clock = new FakeClock(Date.UTC(2026, 2, 2, 9, 0));
    const oldHome = join(t.dir, 'old-computer');
    const old = host(oldHome, clock);
    await old.hosted.prepare();
    const source = value(await old.call('bulwark:sources.add', { name: 'Accounts', paths: [data] })).source;
    const b = await old.hosted.service.waitForJob(
      value(await old.call('bulwark:jobs.runNow', { sourceId: source.id })).job.id,
    );
    expect(b.state).toBe('SUCCEEDED');
    await old.hosted.stop();
    const repoDir = join(oldHome, 'data', 'repository');
    const password = readFileSync(defaultKeyFile(localPaths({ BULWARK_HOME: oldHome })), 'utf8').trim();

    const fresh = host(join(t.dir, 'new-computer'), clock);
    await fresh.hosted.prepare();
    const wrong = await fresh.call('bulwark:targets.connect', {
      kind: 'fs',
      path: repoDir,
      password: 'not it',
    });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'WRONG_PASSWORD' } });
    const nothing = await fresh.call('bulwark:targets.connect', {
      kind: 'fs',
      path: join(t.dir, 'no-backups-here'),
      password,
    });
    expect(nothing.ok).toBe(false);

    const connected = value(
      await fresh.call('bulwark:targets.connect', {
        kind: 'fs',
        path: repoDir,
        password,
        name: 'Old backups',
      }),
    );
    expect(connected.snapshots).toBe(1);
    expect(connected.sources).toHaveLength(1);
    expect(connected.sources[0]).toMatchObject({
      id: source.id,
      name: 'Accounts',
      paths: [data],
      enabled: false,
    });
    const snaps = value(await fresh.call('bulwark:snapshots.list', { sourceId: source.id })).snapshots;
    expect(snaps.map((s) => s.id)).toEqual([b.snapshotId]);

    const out = join(t.dir, 'restored');
    const plan = value(
      await fresh.call('bulwark:restore.plan', {
        sourceId: source.id,
        snapshotId: b.snapshotId,
        paths: ['Accounts'],
        destination: { kind: 'folder', path: out },
      }),
    );
    const job = value(
      await fresh.call('bulwark:restore.start', { planId: plan.planId, onConflict: 'skip' }),
    ).job;
    expect((await fresh.hosted.service.waitForJob(job.id)).state).toBe('SUCCEEDED');
    for (const [p, bytes] of Object.entries(files))
      expect(readFileSync(join(out, 'Accounts', p))).toEqual(bytes);
  });
});
