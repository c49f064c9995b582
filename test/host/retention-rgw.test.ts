/**
 * Snapshots, legal holds, the lock check and the retention preview of the service (engine/service/
 * retention.ts, host/retention.ts) on a real S3 server with Object Lock (the test run's Ceph RGW):
 * - the legal-hold toggle puts a hold on every object of the snapshot's closure, as GetObjectLegalHold says;
 * - the protected-until dates snapshots.list answers after the service's lock check are those
 *   `bulwark verify --locks --json` reports;
 * - the retention preview for "accounting (10 years)" is what `bulwark forget --dry-run --json` says once
 *   the policy is set.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GetObjectLegalHoldCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import type { Result } from '../../src-main/contract/result.ts';
import { snapshotClosure } from '../../src-main/engine/locks/closure.ts';
import { objectNames } from '../../src-main/engine/repo/format.ts';
import { createBackupService, sourceKey, type BackupService } from '../../src-main/engine/service/index.ts';
import { createRetentionHandlers } from '../../src-main/host/retention.ts';
import { dispatch, type Handlers } from '../../src-main/transport/dispatch.ts';
import { runMain } from '../cli/helpers.ts';
import { useLockBucket } from '../engine/helpers/rgw-bucket.ts';
import { PASSWORD, TEST_KDF } from '../engine/helpers/repo.ts';
import { tempDir } from '../engine/service/helpers/util.ts';

const lockBucket = useLockBucket('svc-retention');
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

type OkValue<C extends keyof Handlers> = Extract<Awaited<ReturnType<Handlers[C]>>, { ok: true }>['value'];

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

/** The CLI as a person runs it, on the same bucket with the same keys. */
function bulwark(
  args: string[],
  home: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const rgw = lockBucket.rgw();
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('BULWARK_') && !k.startsWith('AWS_')) env[k] = v;
  Object.assign(env, {
    BULWARK_HOME: home,
    BULWARK_PASSWORD: PASSWORD,
    AWS_ACCESS_KEY_ID: rgw.accessKeyId,
    AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey,
    AWS_REGION: rgw.region,
    AWS_CONFIG_FILE: path.join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'no-aws-credentials'),
  });
  return runMain(args, env);
}

describe('snapshots and retention of the service on Ceph RGW (Object Lock)', () => {
  it('legal hold on the whole closure, protected-until as verify --locks, preview as forget --dry-run', async () => {
    const rgw = lockBucket.rgw();
    const t = tempDir('svc-ret-rgw');
    cleanups.push(() => t.cleanup());
    const prefix = `office-${randomBytes(4).toString('hex')}`;
    const src = path.join(t.dir, 'Accounts');
    mkdirSync(src);
    writeFileSync(path.join(src, 'ledger.csv'), randomBytes(200_000).toString('hex'));

    const svc: BackupService = createBackupService({
      home: path.join(t.dir, 'service'),
      kdf: TEST_KDF,
      passwordFor: () => PASSWORD,
      storeFor: () => lockBucket.store(prefix),
      watch: { enabled: false },
      retention: { schedule: false },
    });
    cleanups.push(() => svc.stop());
    const target = await svc.addTarget(
      {
        name: 'Cloud',
        location: `s3://${lockBucket.bucket()}/${prefix}`,
        endpoint: rgw.endpoint,
        region: rgw.region,
      },
      { initialize: true, lock: { mode: 'COMPLIANCE', days: 1, paddingDays: 1 } },
    );
    const source = await svc.addSource({ name: 'Accounts', paths: [src], targetId: target.id });
    await svc.start();
    await svc.whenIdle();
    writeFileSync(path.join(src, 'invoice.txt'), 'invoice 2\n');
    const second = await svc.waitForJob(svc.runNow(source.id).id);
    expect(second.state).toBe('SUCCEEDED');

    const handlers = createRetentionHandlers(svc) as Partial<Handlers>;
    const call = async <C extends keyof Handlers>(channel: C, request: unknown): Promise<OkValue<C>> =>
      value((await dispatch(handlers, channel, request)) as Result<OkValue<C>>);

    // ---- protected-until after the service's lock check = what `bulwark verify --locks --json` says
    const check = await svc.waitForJob(svc.retention.checkLocksNow(target.id).id);
    expect(check.state).toBe('SUCCEEDED');
    const status = await call('bulwark:maintenance.status', {});
    const mine = status.targets.find((x) => x.targetId === target.id);
    expect(mine?.lockCheck).toMatchObject({ applicable: true, ok: true, snapshots: 2, problems: 0 });
    expect(mine?.lockCheck?.summary).toMatch(/^All 2 backups are locked as promised/);
    const listed = await call('bulwark:snapshots.list', { sourceId: source.id });
    expect(listed.total).toBe(2);
    const cliHome = path.join(t.dir, 'cli-home');
    const repoArgs = ['--repo', `s3://${lockBucket.bucket()}/${prefix}`, '--endpoint', rgw.endpoint];
    const verify = await bulwark(['verify', '--locks', '--json', ...repoArgs], cliHome);
    expect(verify.code, verify.stderr).toBe(0);
    const report = JSON.parse(verify.stdout) as { snapshots: { id: string; protectedUntil?: string }[] };
    expect(report.snapshots).toHaveLength(2);
    for (const s of listed.snapshots) {
      const fromCli = report.snapshots.find((r) => r.id === s.id);
      expect(s.protectedUntil, s.id).toBeDefined();
      expect(s.protectedUntil).toBe(fromCli?.protectedUntil);
      expect(s).toMatchObject({ sourceId: source.id, source: 'Accounts', held: false, targetId: target.id });
    }

    // ---- the legal hold covers every object the snapshot needs (GetObjectLegalHold on the server)
    const oldest = listed.snapshots[1];
    if (!oldest) throw new Error('no second snapshot');
    const on = await call('bulwark:snapshots.legalHold', {
      sourceId: source.id,
      snapshotId: oldest.id,
      on: true,
    });
    expect(on).toMatchObject({ snapshotId: oldest.id, held: true });
    const repo = await svc.repositoryForTarget(target.id);
    const manifest = repo.catalog.snapshots(repo.rid).find((m) => m.id === oldest.id);
    if (!manifest) throw new Error('snapshot not in the catalog');
    const closure = [...(await snapshotClosure(repo, manifest)), objectNames.snapshot(manifest.id)];
    expect(on.objects).toBe(closure.length);
    expect(closure.some((n) => n.startsWith('packs/'))).toBe(true);
    const s3 = rgw.client();
    cleanups.push(() => s3.destroy());
    const holdOf = async (name: string): Promise<string | undefined> =>
      (
        await s3.send(
          new GetObjectLegalHoldCommand({ Bucket: lockBucket.bucket(), Key: `${prefix}/${name}` }),
        )
      ).LegalHold?.Status;
    for (const n of closure) expect(await holdOf(n), n).toBe('ON');
    const afterHold = await call('bulwark:snapshots.list', { sourceId: source.id });
    expect(afterHold.snapshots.find((s) => s.id === oldest.id)?.held).toBe(true);
    expect(afterHold.snapshots.find((s) => s.id !== oldest.id)?.held).toBe(false);

    const off = await call('bulwark:snapshots.legalHold', {
      targetId: target.id,
      snapshotId: oldest.id,
      on: false,
    });
    expect(off).toMatchObject({ held: false, released: closure.length, keptHeld: 0 });
    for (const n of closure) expect(await holdOf(n), n).toBe('OFF');

    // ---- the preview of "accounting (10 years)" = `bulwark forget --dry-run --json` once it is set
    const preview = await call('bulwark:retention.preview', {
      sourceId: source.id,
      template: 'accounting-10y',
    });
    expect(preview.total).toBe(2);
    expect(preview.policy.lockDays.yearly).toBe(3653);
    await call('bulwark:retention.set', { sourceId: source.id, template: 'accounting-10y' });
    const got = await call('bulwark:retention.get', { sourceId: source.id });
    expect(got).toMatchObject({ template: 'accounting-10y', policy: preview.policy });
    const dry = await bulwark(
      ['forget', '--dry-run', '--json', '--source', sourceKey(source.id), ...repoArgs],
      cliHome,
    );
    expect(dry.code, dry.stderr).toBe(0);
    const forgetJson = JSON.parse(dry.stdout) as {
      sources: {
        source: string;
        keep: { id: string; tier: string; protectedUntil?: string; promoted?: { until: string } }[];
        forgotten: { id: string }[];
        locked: { id: string; lockedUntil?: string }[];
      }[];
    };
    const fromCli = forgetJson.sources.find((s) => s.source === sourceKey(source.id));
    expect(fromCli).toBeDefined();
    const expected = [
      ...(fromCli?.keep ?? []).map((k) => ({
        snapshotId: k.id,
        outcome: 'keep',
        lockEndsAt: k.promoted?.until ?? k.protectedUntil,
      })),
      ...(fromCli?.forgotten ?? []).map((f) => ({
        snapshotId: f.id,
        outcome: 'remove',
        lockEndsAt: undefined,
      })),
      ...(fromCli?.locked ?? []).map((l) => ({
        snapshotId: l.id,
        outcome: 'locked',
        lockEndsAt: l.lockedUntil,
      })),
    ].sort((a, b) => (a.snapshotId < b.snapshotId ? -1 : 1));
    const shown = preview.items
      .map((i) => ({ snapshotId: i.snapshotId, outcome: i.outcome, lockEndsAt: i.lockEndsAt }))
      .sort((a, b) => (a.snapshotId < b.snapshotId ? -1 : 1));
    expect(shown).toEqual(expected);
    expect(preview.counts).toEqual({
      keep: fromCli?.keep.length,
      remove: fromCli?.forgotten.length,
      locked: fromCli?.locked.length,
    });
  });
});
