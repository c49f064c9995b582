/**
 * The service keeps backups by itself (engine/service/retention.ts through host/retention.ts), on a real
 * folder repository and a real SQLite catalog: snapshots.list per source with its tier, a policy set from
 * the app and applied by a forget job after the next backup, the weekly prune as a job, prune paused from
 * the app and from the CLI (`bulwark prune --pause`), and legal holds refused, in plain words, on a folder.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Result } from '../../src-main/contract/result.ts';
import { localPaths } from '../../src-main/engine/index.ts';
import { openHostedService, type HostedService } from '../../src-main/host/service.ts';
import { dispatch, type Handlers } from '../../src-main/transport/dispatch.ts';
import { runBulwark } from '../cli/helpers.ts';
import { TEST_KDF } from '../engine/helpers/repo.ts';
import { tempDir } from '../engine/service/helpers/util.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

type OkValue<C extends keyof Handlers> = Extract<Awaited<ReturnType<Handlers[C]>>, { ok: true }>['value'];

async function started(): Promise<{
  hosted: HostedService;
  home: string;
  tmp: string;
  data: string;
  call: <C extends keyof Handlers>(channel: C, request: unknown) => Promise<Result<OkValue<C>>>;
}> {
  const t = tempDir('host-retention');
  cleanups.push(() => t.cleanup());
  const home = join(t.dir, 'home');
  const data = join(t.dir, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'a.txt'), 'alpha');
  const hosted = openHostedService({
    paths: localPaths({ BULWARK_HOME: home }),
    kdf: TEST_KDF,
    tuning: { watch: { enabled: false }, backup: { readers: 2 }, retention: { pruneEveryMs: 1 } },
  });
  cleanups.push(() => hosted.stop());
  await hosted.start();
  const handlers = hosted.handlers as Partial<Handlers>;
  return {
    hosted,
    home,
    tmp: t.dir,
    data,
    call: (channel, request) => dispatch(handlers, channel, request) as never,
  };
}

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

describe('retention in the service (host/retention.ts)', () => {
  it('lists a source’s snapshots, sets a policy that a forget job applies after the next backup, prunes weekly', async () => {
    const { hosted, call, data } = await started();
    const svc = hosted.service;
    const { source } = value(await call('bulwark:sources.add', { name: 'Office', paths: [data] }));
    await svc.whenIdle();
    writeFileSync(join(data, 'b.txt'), 'beta');
    await svc.waitForJob(svc.runNow(source.id).id);

    const list = value(await call('bulwark:snapshots.list', { sourceId: source.id, limit: 1 }));
    expect(list.total).toBe(2);
    expect(list.snapshots).toHaveLength(1);
    expect(list.snapshots[0]).toMatchObject({
      sourceId: source.id,
      source: 'Office',
      held: false,
      targetId: 'default',
    });
    // a folder has no server locks: no protected-until, and no tier before a policy is set
    expect(list.snapshots[0]?.protectedUntil).toBeUndefined();
    expect(list.snapshots[0]?.tier).toBeUndefined();
    const page2 = value(await call('bulwark:snapshots.list', { targetId: 'default', offset: 1 }));
    expect(page2.snapshots.map((s) => s.id)).not.toContain(list.snapshots[0]?.id);

    const before = value(await call('bulwark:retention.get', { sourceId: source.id }));
    expect(before.policy).toBeUndefined();
    expect(before.description[0]).toMatch(/No backups of this folder are removed/);
    expect(before.templates.map((t) => t.id)).toEqual([
      'office-files',
      'accounting-10y',
      'medical-records',
      'custom',
    ]);

    // two backups on one day: "office files" keeps the newer as today's; the older is no longer kept but its
    // daily lock (30 days from its time) still protects it
    const preview = value(
      await call('bulwark:retention.preview', { sourceId: source.id, template: 'office-files' }),
    );
    expect(preview.counts).toEqual({ keep: 1, remove: 0, locked: 1 });
    expect(preview.items.map((i) => i.outcome)).toEqual(['keep', 'locked']);
    expect(preview.items[0]?.tier).toBe('yearly');
    expect(Date.parse(preview.items[1]?.lockEndsAt ?? '')).toBeGreaterThan(Date.now() + 29 * 86_400_000);

    // a custom policy the engine refuses answers in words
    const bad = await call('bulwark:retention.preview', {
      sourceId: source.id,
      template: 'custom',
      policy: {
        keepDaily: 7,
        lockDays: { daily: 30, weekly: 10, monthly: 400, yearly: 400 },
        timeZone: 'UTC',
      },
    });
    expect(bad.ok ? 'ok' : bad.error.code).toBe('INVALID_ARGUMENT');
    expect(bad.ok ? '' : bad.error.message).toMatch(/weekly lock \(10 days\) is shorter than the daily lock/);

    value(await call('bulwark:retention.set', { sourceId: source.id, template: 'office-files' }));
    writeFileSync(join(data, 'c.txt'), 'gamma');
    await svc.waitForJob(svc.runNow(source.id).id);
    await svc.whenIdle();
    const jobs = value(await call('bulwark:jobs.list', { sourceId: source.id }));
    const forgetJob = jobs.jobs.find((j) => j.kind === 'forget');
    expect(forgetJob).toMatchObject({ state: 'succeeded', sourceId: source.id, targetId: 'default' });
    const tiers = value(await call('bulwark:snapshots.list', { sourceId: source.id }));
    expect(tiers.snapshots[0]?.tier).toBe('yearly');

    // the weekly prune (here: every millisecond) runs as a job of the target
    svc.tick();
    await svc.whenIdle();
    const pruneJob = svc.listJobs().find((j) => j.kind === 'prune');
    expect(pruneJob).toMatchObject({ state: 'SUCCEEDED', sourceId: 'target:default', targetId: 'default' });
    const status = value(await call('bulwark:maintenance.status', {}));
    expect(status.prune).toMatchObject({ paused: false });
    expect(status.targets[0]).toMatchObject({ targetId: 'default', lastPrune: expect.stringMatching(/\.$/) });
    expect(status.targets[0]?.lastPruneAt).toBeDefined();
    // a folder has no locks to check: no lock check is scheduled
    expect(status.targets[0]?.nextLockCheckAt).toBeUndefined();

    const repo = await svc.repositoryForTarget('default');
    const actions = repo.catalog.auditLog().map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['policy-set', 'forget', 'prune']));
  });

  it('pauses prune from the app and from the CLI; refuses a legal hold on a folder in plain words', async () => {
    const { hosted, call, data, home, tmp } = await started();
    const svc = hosted.service;
    const { source } = value(await call('bulwark:sources.add', { name: 'Office', paths: [data] }));
    await svc.whenIdle();
    const paused = value(
      await call('bulwark:maintenance.pausePrune', { reason: 'checking a suspicious email' }),
    );
    expect(paused.prune).toMatchObject({ paused: true, reason: 'checking a suspicious email' });
    svc.tick();
    svc.tick();
    expect(svc.listJobs().some((j) => j.kind === 'prune')).toBe(false);
    expect(value(await call('bulwark:maintenance.resumePrune', {})).prune.paused).toBe(false);

    const cli = await runBulwark(['prune', '--pause', 'incident'], { home, tmp });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/prune paused \(here and in the backup service\): incident/);
    expect(value(await call('bulwark:maintenance.status', {})).prune).toMatchObject({
      paused: true,
      reason: 'incident',
    });
    const resumed = await runBulwark(['prune', '--resume'], { home, tmp });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(value(await call('bulwark:maintenance.status', {})).prune.paused).toBe(false);

    const snap = value(await call('bulwark:snapshots.list', { sourceId: source.id })).snapshots[0];
    const hold = await call('bulwark:snapshots.legalHold', {
      sourceId: source.id,
      snapshotId: snap?.id,
      on: true,
    });
    expect(hold.ok ? 'ok' : hold.error.code).toBe('UNSUPPORTED');
    expect(hold.ok ? '' : hold.error.hint).toMatch(/Legal holds need a storage bucket with Object Lock/);
  });
});
