/**
 * targets.test and the wizard's targets.add (new / existing repository) through the shared dispatch core,
 * against a real hosted BackupService and a real S3 server with Object Lock (Ceph RGW from
 * test/harness/rgw.ts): owner keys in COMPLIANCE mode are immutable, in GOVERNANCE mode they are not (RGW
 * lets the owner bypass) and the least-privilege policy comes back; a bucket without Object Lock, a
 * missing bucket and wrong keys are told in plain words; secrets never come back.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';

import type { Result } from '../../src-main/contract/result.ts';
import { localPaths } from '../../src-main/engine/index.ts';
import { openHostedService, type HostedService } from '../../src-main/host/service.ts';
import { dispatch, type Handlers } from '../../src-main/transport/dispatch.ts';
import { TEST_KDF } from '../engine/helpers/repo.ts';
import { tempDir } from '../engine/service/helpers/util.ts';
import { acquireRgw, uniqueBucketName, type RgwHandle } from '../harness/rgw.ts';

type Call = <C extends keyof Handlers>(channel: C, request: unknown) => Promise<Result<OkValue<C>>>;
type OkValue<C extends keyof Handlers> = Extract<Awaited<ReturnType<Handlers[C]>>, { ok: true }>['value'];

let rgw: RgwHandle | undefined;
let lockBucket: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  rgw = await acquireRgw(inject('rgw'));
  lockBucket = uniqueBucketName('host-tt');
  await rgw.createBucket(lockBucket, { objectLock: true });
}, 180_000);

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

afterAll(async () => {
  await rgw?.release();
});

function conn(): RgwHandle {
  if (!rgw) throw new Error('RGW not started');
  return rgw;
}

function host(): { hosted: HostedService; call: Call; dir: string } {
  const t = tempDir('targets');
  cleanups.push(() => t.cleanup());
  const hosted = openHostedService({
    paths: localPaths({ BULWARK_HOME: join(t.dir, 'home') }),
    kdf: TEST_KDF,
    tuning: { watch: { enabled: false }, backup: { readers: 2 }, progressIntervalMs: 10 },
  });
  cleanups.push(() => hosted.stop());
  const handlers = hosted.handlers as Partial<Handlers>;
  const call: Call = (channel, request) => dispatch(handlers, channel, request) as never;
  return { hosted, call, dir: t.dir };
}

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

const ownerKeys = () => ({ accessKeyId: conn().accessKeyId, secretAccessKey: conn().secretAccessKey });
const s3 = (bucket: string, prefix: string) => ({
  kind: 's3' as const,
  bucket,
  prefix,
  endpoint: conn().endpoint,
  region: conn().region,
  ...ownerKeys(),
});
const prefix = () => `office-${randomBytes(3).toString('hex')}`;

describe('targets.test on Ceph RGW', () => {
  it('owner keys, COMPLIANCE: Immutable, every check in plain words, nothing saved, no secret returned', async () => {
    const { call } = host();
    const { result } = value(await call('bulwark:targets.test', { ...s3(lockBucket, prefix()) }));
    expect(result).toMatchObject({ verdict: 'immutable', headline: 'Immutable', mode: 'COMPLIANCE' });
    expect(result.reason).toMatch(/cannot be deleted, replaced or unlocked/);
    const byId = Object.fromEntries(result.checks.map((c) => [c.id, c]));
    for (const id of [
      'reachable',
      'versioning',
      'object-lock',
      'probe-locked',
      'delete-version',
      'overwrite',
      'shorten-lock',
      'bypass-governance',
    ]) {
      expect(byId[id]?.status, id).toBe('passed');
    }
    expect(byId['delete-version']?.title).toBe('Deleting a locked backup is refused');
    expect(byId['shorten-lock']?.title).toBe('Shortening a lock is refused');
    expect(result.policy).toBeUndefined();
    expect(result.existingRepository).toBeUndefined();
    const text = JSON.stringify(result);
    expect(text).not.toContain(conn().secretAccessKey);
    expect(text).not.toContain(conn().accessKeyId);
    // nothing saved
    expect(value(await call('bulwark:targets.list', {})).targets).toEqual([]);
  });

  it('owner keys, GOVERNANCE: Not immutable with these credentials, the bypass check fails, the policy comes back', async () => {
    const { call } = host();
    const { result } = value(
      await call('bulwark:targets.test', { ...s3(lockBucket, prefix()), mode: 'GOVERNANCE' }),
    );
    expect(result).toMatchObject({
      verdict: 'not-immutable',
      headline: 'Not immutable with these credentials',
      mode: 'GOVERNANCE',
    });
    const bypass = result.checks.find((c) => c.id === 'bypass-governance');
    expect(bypass?.status).toBe('failed');
    expect(result.reason).toBe(bypass?.explanation);
    expect(result.policy).toBeDefined();
    const policy = JSON.parse(result.policy?.bucketPolicy ?? '{}') as {
      Statement: { Effect: string; Action: string[]; Resource: string[] }[];
    };
    const denied = policy.Statement.filter((s) => s.Effect === 'Deny').flatMap((s) => s.Action);
    expect(denied).toEqual(
      expect.arrayContaining(['s3:BypassGovernanceRetention', 's3:DeleteObjectVersion', 's3:DeleteObject']),
    );
    expect(policy.Statement.some((s) => s.Resource.includes(`arn:aws:s3:::${lockBucket}`))).toBe(true);
    expect(result.policy?.b2Capabilities).toContain('writeFileRetentions');
    expect(result.policy?.b2ForbiddenCapabilities).toContain('bypassGovernance');
    expect(result.advice.join(' ')).toMatch(/least-privilege/);
  });

  it('a bucket without Object Lock: Not immutable, the lock check fails and says to create a new bucket', async () => {
    const { call } = host();
    const plain = uniqueBucketName('host-tt-plain');
    await conn().createBucket(plain, { objectLock: false });
    const { result } = value(await call('bulwark:targets.test', { ...s3(plain, '') }));
    expect(result.verdict).toBe('not-immutable');
    expect(result.checks.find((c) => c.id === 'object-lock')?.status).toBe('failed');
    expect(result.reason).toMatch(
      /The bucket cannot lock files.*create a new bucket with Object Lock switched on/,
    );
    expect(result.checks.find((c) => c.id === 'delete-version')?.status).toBe('skipped');
  });

  it('a missing bucket and wrong keys are typed errors in plain words', async () => {
    const { call } = host();
    const missing = await call('bulwark:targets.test', { ...s3(uniqueBucketName('nope'), '') });
    expect(missing.ok).toBe(false);
    if (!missing.ok) {
      expect(missing.error.code).toBe('NOT_FOUND');
      expect(missing.error.message).toMatch(/does not exist at this address/);
      expect(missing.error.hint).toMatch(/Object Lock switched on/);
    }
    const wrong = await call('bulwark:targets.test', {
      ...s3(lockBucket, ''),
      accessKeyId: 'NOTAKEY',
      secretAccessKey: 'not-the-secret',
    });
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) {
      expect(wrong.error.code).toBe('PERMISSION');
      expect(wrong.error.message).toBe('The storage refused these keys.');
      expect(JSON.stringify(wrong.error)).not.toContain('not-the-secret');
    }
    const bad = await call('bulwark:targets.test', { ...s3(lockBucket, ''), secretAccessKey: undefined });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toMatch(/both the access key and the secret key/);
  });

  it('a folder is Tamper-evident; a missing one cannot be used', async () => {
    const { call, dir } = host();
    const folder = join(dir, 'nas-share');
    mkdirSync(folder);
    const { result } = value(await call('bulwark:targets.test', { kind: 'fs', path: folder }));
    expect(result).toMatchObject({ verdict: 'tamper-evident', headline: 'Tamper-evident' });
    expect(result.checks.map((c) => [c.id, c.status])).toEqual([
      ['folder-reachable', 'passed'],
      ['folder-writable', 'passed'],
      ['folder-space', expect.stringMatching(/passed|warning/)],
      ['folder-lock', 'info'],
    ]);
    const gone = value(await call('bulwark:targets.test', { kind: 'fs', path: join(dir, 'no', 'such') }));
    expect(gone.result).toMatchObject({ verdict: 'not-immutable', headline: 'This folder cannot be used' });
  });
});

describe('targets.add from the wizard', () => {
  it('saves the wizard’s test as the last test; new refuses a place with backups; existing rebuilds the catalog', async () => {
    const a = host();
    const where = s3(lockBucket, prefix());
    value(await a.call('bulwark:targets.test', where));
    const { target } = value(
      await a.call('bulwark:targets.add', {
        ...where,
        name: 'Office cloud',
        password: 'correct horse',
        repository: 'new',
        objectLock: { mode: 'COMPLIANCE', days: 3 },
      }),
    );
    expect(target).toMatchObject({
      name: 'Office cloud',
      immutability: 'object-lock',
      lock: { mode: 'COMPLIANCE', days: 3 },
      lastTest: { verdict: 'immutable', headline: 'Immutable', mode: 'COMPLIANCE' },
    });
    expect(JSON.stringify(target)).not.toContain(conn().secretAccessKey);

    // a backup into it, so another computer has something to find
    const data = join(a.dir, 'docs');
    mkdirSync(data);
    writeFileSync(join(data, 'ledger.txt'), 'invoice 1\n');
    const { source } = value(
      await a.call('bulwark:sources.add', { name: 'Docs', paths: [data], targetId: target.id }),
    );
    await a.hosted.start();
    const job = value(await a.call('bulwark:jobs.runNow', { sourceId: source.id })).job;
    const done = await a.hosted.service.waitForJob(job.id);
    expect(done.state).toBe('SUCCEEDED');

    // testing the saved target keeps the new result with it
    const retest = value(await a.call('bulwark:targets.test', { targetId: target.id }));
    expect(retest.result.verdict).toBe('immutable');
    expect(retest.result.existingRepository).toEqual({ lock: { mode: 'COMPLIANCE', days: 3 } });
    const listed = value(await a.call('bulwark:targets.list', {})).targets.find((t) => t.id === target.id);
    expect(listed?.lastTest?.testedAt).toBe(retest.result.testedAt);

    // another computer: "create new" refuses, "existing" without backups refuses, "existing" connects
    const b = host();
    const refusedNew = await b.call('bulwark:targets.add', { ...where, password: 'x', repository: 'new' });
    expect(refusedNew.ok ? 'ok' : refusedNew.error.code).toBe('REPO_EXISTS');
    const empty = await b.call('bulwark:targets.add', {
      ...s3(lockBucket, prefix()),
      password: 'x',
      repository: 'existing',
    });
    expect(empty.ok ? 'ok' : empty.error.code).toBe('REPO_NOT_FOUND');
    const wrongPw = await b.call('bulwark:targets.add', {
      ...where,
      password: 'wrong',
      repository: 'existing',
    });
    expect(wrongPw.ok ? 'ok' : wrongPw.error.code).toBe('WRONG_PASSWORD');
    expect(value(await b.call('bulwark:targets.list', {})).targets).toEqual([]);

    const connected = value(
      await b.call('bulwark:targets.add', {
        ...where,
        name: 'Office cloud',
        password: 'correct horse',
        repository: 'existing',
      }),
    ).target;
    expect(connected).toMatchObject({ lock: { mode: 'COMPLIANCE', days: 3 } });
    await a.hosted.service.whenIdle();
    const made = await a.hosted.service.repositoryForTarget(target.id);
    const madeIds = made.catalog.snapshots(made.rid).map((s) => s.id);
    expect(madeIds).toContain(done.snapshotId);
    const repo = await b.hosted.service.repositoryForTarget(connected.id);
    expect(
      repo.catalog
        .snapshots(repo.rid)
        .map((s) => s.id)
        .sort(),
    ).toEqual([...madeIds].sort());

    // removing a target forgets its test too
    value(await b.call('bulwark:targets.remove', { targetId: connected.id }));
    expect(value(await b.call('bulwark:targets.list', {})).targets).toEqual([]);
  });
});
