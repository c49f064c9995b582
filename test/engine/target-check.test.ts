/**
 * The target self-test (checkTarget) against a real S3 server with Object Lock: Ceph RGW from
 * test/harness/rgw.ts (one per test run with the global setup, else one for this file).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

import {
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  ListObjectVersionsCommand,
  PutBucketPolicyCommand,
  PutObjectLockConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { FakeClock } from '../../src-main/engine/clock.ts';
import { isBulwarkError, type BulwarkError } from '../../src-main/engine/errors.ts';
import { createRequestRecorder, S3Store, type S3StoreOptions } from '../../src-main/engine/storage/s3.ts';
import {
  checkTarget,
  VERDICT_IMMUTABLE,
  VERDICT_NOT_IMMUTABLE,
  type TargetCheck,
  type TargetCheckId,
  type TargetReport,
} from '../../src-main/engine/target/check.ts';
import { leastPrivilegePolicy } from '../../src-main/engine/target/policy.ts';
import { acquireRgw, uniqueBucketName, type RgwHandle } from '../harness/rgw.ts';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** every check, in the order the report lists them */
const ALL_CHECKS: TargetCheckId[] = [
  'reachable',
  'clock',
  'versioning',
  'object-lock',
  'default-retention',
  'probe-write',
  'probe-locked',
  'extend-lock',
  'legal-hold',
  'delete-version',
  'overwrite',
  'shorten-lock',
  'delete-marker',
  'bypass-governance',
];

let rgw: RgwHandle | undefined;
let owner: S3Client;
const stores: S3Store[] = [];

beforeAll(async () => {
  rgw = await acquireRgw(inject('rgw'));
  owner = rgw.client();
}, 180_000);

afterAll(async () => {
  for (const s of stores.splice(0)) await s.close();
  await rgw?.release();
});

function conn(): RgwHandle {
  if (!rgw) throw new Error('RGW not started');
  return rgw;
}

function makeStore(bucket: string, opts: Partial<S3StoreOptions> = {}): S3Store {
  const r = conn();
  const store = new S3Store({
    bucket,
    prefix: `repo-${randomBytes(3).toString('hex')}`,
    endpoint: r.endpoint,
    region: r.region,
    credentials: { accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey },
    ...opts,
  });
  stores.push(store);
  return store;
}

async function newBucket(prefix: string, objectLock: boolean): Promise<string> {
  const name = uniqueBucketName(prefix);
  await conn().createBucket(name, { objectLock });
  return name;
}

/** Every bucket setting checkTarget must leave alone, as the owner reads them (errors by name). */
async function bucketSettings(bucket: string): Promise<Record<string, unknown>> {
  const read = async (fn: () => Promise<unknown>): Promise<unknown> => {
    try {
      const out = (await fn()) as Record<string, unknown>;
      const { $metadata: _, ...rest } = out;
      return rest;
    } catch (e) {
      return { error: (e as { name?: string }).name };
    }
  };
  return {
    versioning: await read(() => owner.send(new GetBucketVersioningCommand({ Bucket: bucket }))),
    objectLock: await read(() => owner.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))),
    policy: await read(() => owner.send(new GetBucketPolicyCommand({ Bucket: bucket }))),
  };
}

function check(r: TargetReport, id: TargetCheckId): TargetCheck {
  const c = r.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id} in ${r.checks.map((x) => x.id).join(', ')}`);
  return c;
}

const failing = (r: TargetReport): TargetCheckId[] =>
  r.checks.filter((c) => !c.ok && c.severity === 'fail').map((c) => c.id);

async function errorOf(p: Promise<unknown>): Promise<BulwarkError> {
  try {
    await p;
  } catch (e) {
    if (isBulwarkError(e)) return e;
    throw new Error(`expected a BulwarkError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected a BulwarkError, but the call succeeded');
}

async function deadPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 1));
    });
  });
}

describe('checkTarget on Ceph RGW', () => {
  it('COMPLIANCE bucket, owner credentials: immutable, every check listed and passed, no setting changed', async () => {
    const bucket = await newBucket('tc-comp', true);
    const rec = createRequestRecorder();
    const store = makeStore(bucket, { onRequest: rec.onRequest });
    const before = await bucketSettings(bucket);
    const t0 = Date.now();
    const r = await checkTarget(store, { mode: 'COMPLIANCE' });

    expect(r.checks.map((c) => c.id)).toEqual(ALL_CHECKS);
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.immutable).toBe(true);
    expect(r.verdict).toBe(VERDICT_IMMUTABLE);
    expect(r.policy).toBeUndefined();
    expect(r.advice).toEqual([]);
    expect(r.mode).toBe('COMPLIANCE');
    expect(Math.abs(r.clockSkewMs)).toBeLessThan(2000); // same machine
    expect(check(r, 'bypass-governance').detail).toContain('COMPLIANCE mode cannot be bypassed');
    expect(check(r, 'delete-version').detail).toMatch(/refused \(403/);
    expect(check(r, 'delete-marker').detail).toContain('delete marker');

    // the probes: one from memory, one from a file, each ONE PutObject with Content-MD5 and the lock
    expect(r.probe?.names).toHaveLength(2);
    const probePuts = rec.requests.filter(
      (q) =>
        q.method === 'PUT' &&
        q.path.includes('/probes/') &&
        !('retention' in q.query) &&
        !('legal-hold' in q.query),
    );
    const lockedPuts = probePuts.filter((q) => q.headers['x-amz-object-lock-mode'] === 'COMPLIANCE');
    expect(lockedPuts).toHaveLength(2);
    for (const q of lockedPuts) {
      expect(q.headers['content-md5']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      expect(q.headers['x-amz-object-lock-retain-until-date']).toBeTruthy();
    }
    expect(rec.requests.some((q) => 'uploads' in q.query || 'partNumber' in q.query)).toBe(false);

    // locked for 1 day (+1 h: the extension test) from the server's now; still so on the server
    const until = new Date(r.probe?.retainUntil ?? 0).getTime();
    expect(until).toBeGreaterThan(t0 + DAY + HOUR - 10_000);
    expect(until).toBeLessThan(Date.now() + DAY + HOUR + 10_000);
    const key = `${store.root}${r.probe?.names[0] ?? ''}`;
    const ret = await owner.send(
      new GetObjectRetentionCommand({ Bucket: bucket, Key: key, VersionId: r.probe?.versionId }),
    );
    expect(ret.Retention).toEqual({ Mode: 'COMPLIANCE', RetainUntilDate: new Date(until) });
    // only probes/ was written, inside the prefix; the owner could remove the overwrite and the marker
    const versions = await owner.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const keys = [...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])].map((v) => v.Key ?? '');
    expect(keys.every((k) => k.startsWith(`${store.root}probes/`))).toBe(true);
    expect(versions.DeleteMarkers ?? []).toEqual([]);
    // left: just the two locked probe versions (the owner may delete the overwrite and the marker)
    expect((versions.Versions ?? []).map((v) => v.Key).sort()).toEqual(
      (r.probe?.names ?? []).map((n) => `${store.root}${n}`).sort(),
    );
    expect((versions.Versions ?? []).map((v) => v.VersionId)).toContain(r.probe?.versionId);

    expect(await bucketSettings(bucket)).toEqual(before);
  });

  it('a bucket without Object Lock: not immutable, with clear failing checks, and nothing switched on', async () => {
    const bucket = await newBucket('tc-plain', false);
    const store = makeStore(bucket);
    const before = await bucketSettings(bucket);
    const r = await checkTarget(store, { mode: 'COMPLIANCE' });

    expect(r.checks.map((c) => c.id)).toEqual(ALL_CHECKS);
    expect(r.immutable).toBe(false);
    expect(r.verdict).toBe(VERDICT_NOT_IMMUTABLE);
    expect(check(r, 'object-lock')).toMatchObject({ ok: false, severity: 'fail' });
    expect(check(r, 'object-lock').detail).toContain('no Object Lock');
    expect(check(r, 'versioning')).toMatchObject({ ok: false, severity: 'fail' });
    expect(check(r, 'probe-write')).toMatchObject({ ok: false, severity: 'fail' });
    expect(check(r, 'probe-write').detail).toContain('does not have Object Lock enabled');
    expect(check(r, 'delete-version')).toMatchObject({ ok: false, skipped: true });
    expect(r.advice.join(' ')).toContain('created with Object Lock enabled');
    expect(r.policy).toBeUndefined(); // credentials are not the problem here
    // nothing was written (the locked puts were refused) and versioning is still off
    const versions = await owner.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    expect(versions.Versions ?? []).toEqual([]);
    expect(await bucketSettings(bucket)).toEqual(before);
    expect(before.versioning).toEqual({});
  });

  it('GOVERNANCE with the owner’s credentials (RGW lets the owner bypass): NOT immutable, policy given', async () => {
    const bucket = await newBucket('tc-gov', true);
    const store = makeStore(bucket);
    const before = await bucketSettings(bucket);
    const r = await checkTarget(store, { mode: 'GOVERNANCE' });

    expect(r.checks.map((c) => c.id)).toEqual(ALL_CHECKS);
    expect(r.immutable).toBe(false);
    expect(r.verdict).toBe(VERDICT_NOT_IMMUTABLE);
    expect(failing(r)).toEqual(['bypass-governance']);
    // without the bypass header the lock held; with it, it did not
    for (const id of ['probe-locked', 'delete-version', 'overwrite', 'shorten-lock'] as const) {
      expect(check(r, id).ok).toBe(true);
    }
    expect(check(r, 'bypass-governance').detail).toContain('shorten ACCEPTED');
    expect(check(r, 'bypass-governance').detail).toContain('GONE');
    expect(r.advice.join(' ')).toContain('least-privilege');
    const statements = r.policy?.awsBucketPolicy.Statement ?? [];
    const denied = statements.filter((s) => s.Effect === 'Deny').flatMap((s) => s.Action);
    expect(denied).toContain('s3:BypassGovernanceRetention');
    expect(r.policy?.b2ForbiddenCapabilities).toContain('bypassGovernance');
    // the locked version really is gone: the check's verdict is what the server did
    const versions = await owner.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `${store.root}${r.probe?.names[0] ?? ''}` }),
    );
    expect((versions.Versions ?? []).map((v) => v.VersionId)).not.toContain(r.probe?.versionId);
    expect(await bucketSettings(bucket)).toEqual(before);
  });

  it('a least-privilege writer (bucket policy from leastPrivilegePolicy) is immutable in GOVERNANCE mode', async () => {
    const r0 = conn();
    const bucket = await newBucket('tc-writer', true);
    const uid = `writer-${randomBytes(4).toString('hex')}`;
    const keys = await r0.createUser(uid);
    const prefix = 'office';
    const policy = leastPrivilegePolicy({ bucket, prefix, principalArn: `arn:aws:iam:::user/${uid}` });
    await owner.send(
      new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy.awsBucketPolicy) }),
    );
    const before = await bucketSettings(bucket);

    const store = makeStore(bucket, { prefix, credentials: keys });
    const r = await checkTarget(store, { mode: 'GOVERNANCE' });
    expect(r.checks.map((c) => c.id)).toEqual(ALL_CHECKS);
    expect(failing(r)).toEqual([]);
    expect(r.immutable).toBe(true);
    expect(r.verdict).toBe(VERDICT_IMMUTABLE);
    expect(r.policy).toBeUndefined();
    expect(check(r, 'bypass-governance').detail).toMatch(
      /shorten refused \(403.*delete the version refused \(403/,
    );
    expect(check(r, 'extend-lock').ok).toBe(true);
    expect(check(r, 'legal-hold').ok).toBe(true);
    // the writer may not even hide objects by name (s3:DeleteObject is denied)
    expect(check(r, 'delete-marker')).toMatchObject({ ok: true, severity: 'info' });
    expect(check(r, 'delete-marker').detail).toContain('cannot even hide');
    expect(await bucketSettings(bucket)).toEqual(before);

    // the same writer against the owner's default prefix (outside its policy): cannot write a probe
    const outside = makeStore(bucket, { prefix: 'elsewhere', credentials: keys });
    const r2 = await checkTarget(outside, { mode: 'GOVERNANCE' });
    expect(r2.immutable).toBe(false);
    expect(check(r2, 'probe-write').detail).toContain('access denied');
  });

  it('a writer whose policy lacks the explicit Deny of s3:BypassGovernanceRetention is caught (RGW quirk)', async () => {
    const r0 = conn();
    const bucket = await newBucket('tc-nodeny', true);
    const uid = `writer-${randomBytes(4).toString('hex')}`;
    const keys = await r0.createUser(uid);
    const policy = leastPrivilegePolicy({ bucket, prefix: 'p', principalArn: `arn:aws:iam:::user/${uid}` });
    const weakened = {
      ...policy.awsBucketPolicy,
      Statement: policy.awsBucketPolicy.Statement.map((s) => ({
        ...s,
        Action: s.Action.filter((a) => a !== 's3:BypassGovernanceRetention'),
      })),
    };
    await owner.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(weakened) }));
    const r = await checkTarget(makeStore(bucket, { prefix: 'p', credentials: keys }), {
      mode: 'GOVERNANCE',
    });
    expect(r.immutable).toBe(false);
    expect(failing(r)).toEqual(['bypass-governance']);
    expect(
      r.policy?.awsIamPolicy.Statement.some((s) => s.Action.includes('s3:BypassGovernanceRetention')),
    ).toBe(true);
    // and with COMPLIANCE the same writer cannot bypass
    const rc = await checkTarget(makeStore(bucket, { prefix: 'p', credentials: keys }), {
      mode: 'COMPLIANCE',
    });
    expect(rc.immutable).toBe(true);
  });

  it('reports a bucket default retention (info) and leaves that configuration as it was', async () => {
    const bucket = await newBucket('tc-default', true);
    await owner.send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
        },
      }),
    );
    const before = await bucketSettings(bucket);
    const r = await checkTarget(makeStore(bucket), { mode: 'COMPLIANCE' });
    expect(check(r, 'default-retention')).toMatchObject({ ok: true, severity: 'info' });
    expect(check(r, 'default-retention').detail).toContain('GOVERNANCE 1 days');
    expect(r.immutable).toBe(true);
    expect(await bucketSettings(bucket)).toEqual(before);
  });

  it('measures the clock skew: a warning above 60 s, a failure above 15 min', async () => {
    const bucket = await newBucket('tc-clock', true);
    // this computer's clock 5 min behind the server's (the SDK still signs with the real clock)
    const slow = { now: () => new Date(Date.now() - 5 * 60_000) };
    const r = await checkTarget(makeStore(bucket), { mode: 'COMPLIANCE', clock: slow });
    expect(r.clockSkewMs).toBeGreaterThan(5 * 60_000 - 3000);
    expect(r.clockSkewMs).toBeLessThan(5 * 60_000 + 3000);
    expect(check(r, 'clock')).toMatchObject({ ok: false, severity: 'warn' });
    expect(check(r, 'clock').detail).toMatch(/5 min behind .*computed from the server/);
    expect(r.immutable).toBe(true); // locks come from the server's clock
    // the probe's lock was computed from the server's clock, not this computer's
    expect(new Date(r.probe?.retainUntil ?? 0).getTime()).toBeGreaterThan(Date.now() + DAY);

    const fast = new FakeClock(Date.now() + 20 * 60_000);
    const r2 = await checkTarget(makeStore(bucket), { mode: 'COMPLIANCE', clock: fast });
    expect(check(r2, 'clock')).toMatchObject({ ok: false, severity: 'fail' });
    expect(check(r2, 'clock').detail).toContain('ahead of the server');
    expect(check(r2, 'clock').detail).toContain('RequestTimeTooSkewed');
    expect(r2.immutable).toBe(false);
    expect(r2.policy).toBeUndefined();
  });

  it('throws with a hint when the bucket is missing, the keys are wrong or the endpoint is dead', async () => {
    const missing = await errorOf(checkTarget(makeStore(uniqueBucketName('tc-missing'))));
    expect(missing.code).toBe('REPO_NOT_FOUND');
    expect(missing.message).toContain('does not exist');
    expect(missing.hint).toMatch(/bucket/i);

    const bucket = await newBucket('tc-keys', true);
    const wrong = await errorOf(
      checkTarget(makeStore(bucket, { credentials: { accessKeyId: 'NOSUCHKEY', secretAccessKey: 'nope' } })),
    );
    expect(wrong.code).toBe('PERMISSION');
    expect(wrong.hint).toContain('AWS_ACCESS_KEY_ID');

    const port = await deadPort();
    const dead = await errorOf(
      checkTarget(makeStore(bucket, { endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 })),
    );
    expect(dead.code).toBe('NETWORK');
    expect(dead.message).toContain('ECONNREFUSED');
    expect(dead.hint).toBeTruthy();

    expect((await errorOf(checkTarget(makeStore(bucket), { probeLockDays: 0 }))).code).toBe(
      'INVALID_ARGUMENT',
    );
  });
});
