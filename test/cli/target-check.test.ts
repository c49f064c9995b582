/**
 * `bulwark target check` as a user runs it (a child process, credentials from the AWS_* variables),
 * against Ceph RGW from test/harness/rgw.ts: output and exit codes.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import type { TargetReport } from '../../src-main/engine/target/check.ts';
import { acquireRgw, uniqueBucketName, type RgwHandle } from '../harness/rgw.ts';
import { runMain } from './helpers.ts';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let rgw: RgwHandle | undefined;
let tmp = '';
let lockBucket = '';
let plainBucket = '';

beforeAll(async () => {
  rgw = await acquireRgw(inject('rgw'));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  lockBucket = uniqueBucketName('cli-lock');
  plainBucket = uniqueBucketName('cli-plain');
  await rgw.createBucket(lockBucket, { objectLock: true });
  await rgw.createBucket(plainBucket, { objectLock: false });
}, 180_000);

afterAll(async () => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  await rgw?.release();
});

function conn(): RgwHandle {
  if (!rgw) throw new Error('RGW not started');
  return rgw;
}

/** Runs the CLI with only the credentials given (no profile, no instance metadata, no BULWARK_*). */
function bulwark(
  args: string[],
  credentials?: { accessKeyId: string; secretAccessKey: string },
  extraEnv: Record<string, string> = {},
): Promise<Result> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('BULWARK_') && !k.startsWith('AWS_')) env[k] = v;
  }
  Object.assign(env, {
    BULWARK_HOME: path.join(tmp, 'home'),
    NODE_COMPILE_CACHE: path.join(tmp, 'node-compile-cache'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(tmp, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'no-aws-credentials'),
  });
  Object.assign(env, extraEnv);
  if (credentials) {
    env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
  }
  return runMain(args, env);
}

const ownerKeys = (): { accessKeyId: string; secretAccessKey: string } => ({
  accessKeyId: conn().accessKeyId,
  secretAccessKey: conn().secretAccessKey,
});

const check = (repo: string, ...more: string[]): string[] => [
  'target',
  'check',
  '--repo',
  repo,
  '--endpoint',
  conn().endpoint,
  ...more,
];

describe('bulwark target check', () => {
  it('exits 0 for a COMPLIANCE bucket: every check ✓ and the verdict', async () => {
    const r = await bulwark(check(`s3://${lockBucket}/pc`, '--mode', 'compliance'), ownerKeys());
    expect(r.stderr).toContain('checking s3://');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => /^ {2}[✓✗!-] /.test(l));
    expect(lines).toHaveLength(14);
    expect(lines.every((l) => l.startsWith('  ✓ '))).toBe(true);
    expect(r.stdout).toContain('Verdict: immutable with these credentials');
    expect(r.stdout).not.toContain('"Statement"');
  });

  it('exits 1 in GOVERNANCE mode with the owner’s keys, and prints the policy and the B2 capabilities', async () => {
    const r = await bulwark(
      check(`s3://${lockBucket}/pc`, '--mode', 'governance', '--principal', 'arn:aws:iam:::user/writer'),
      ownerKeys(),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ {2}✗ Governance bypass is refused: /m);
    expect(r.stdout).toContain('Verdict: NOT immutable with these credentials');
    expect(r.stdout).toContain('"s3:BypassGovernanceRetention"');
    expect(r.stdout).toContain('"arn:aws:iam:::user/writer"');
    expect(r.stdout).toContain(`"arn:aws:s3:::${lockBucket}/pc/*"`);
    expect(r.stdout).toContain('writeFileRetentions');
    expect(r.stdout).toMatch(/WITHOUT\s+deleteFiles, bypassGovernance/);
  });

  it('--json prints the report as one JSON document', async () => {
    const r = await bulwark(check(`s3://${lockBucket}/pc`, '--mode', 'governance', '--json'), ownerKeys());
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as TargetReport;
    expect(report.immutable).toBe(false);
    expect(report.mode).toBe('GOVERNANCE');
    expect(report.checks.find((c) => c.id === 'bypass-governance')?.ok).toBe(false);
    expect(report.policy?.awsIamPolicy.Statement.length).toBeGreaterThan(0);
    expect(report.policy?.b2Capabilities).toContain('writeFiles');
  });

  it('exits 1 for a bucket without Object Lock, naming the failing checks', async () => {
    const r = await bulwark(check(`s3://${plainBucket}`), ownerKeys());
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ {2}✗ Object Lock enabled on the bucket: /m);
    expect(r.stdout).toMatch(/^ {2}✗ Versioning enabled: /m);
    expect(r.stdout).toMatch(/^ {2}- Deleting the locked version is refused: not tested/m);
    expect(r.stdout).toContain('created with Object Lock enabled');
  });

  it('a missing bucket, wrong keys, no keys, a dead endpoint: a clear error with a hint', async () => {
    const missing = await bulwark(check(`s3://${uniqueBucketName('cli-missing')}/x`), ownerKeys());
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/bulwark: bucket \S+ does not exist/);
    expect(missing.stderr).toContain('hint: Check the bucket name');

    const wrong = await bulwark(check(`s3://${lockBucket}`), {
      accessKeyId: 'NOSUCHKEY',
      secretAccessKey: 'x',
    });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('hint: Check the access key');

    const none = await bulwark(check(`s3://${lockBucket}`));
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('no S3 credentials');
    expect(none.stderr).toContain('AWS_ACCESS_KEY_ID');

    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const a = srv.address();
        srv.close(() => resolve(typeof a === 'object' && a ? a.port : 1));
      });
    });
    const dead = await bulwark(
      ['target', 'check', '--repo', `s3://${lockBucket}`, '--endpoint', `http://127.0.0.1:${port}`],
      ownerKeys(),
    );
    expect(dead.code).toBe(1);
    expect(dead.stderr).toContain('ECONNREFUSED');
    expect(dead.stderr).toContain('hint: check the connection / endpoint');
  });

  it('without --mode tests the mode of the repository already there (no password needed)', async () => {
    const repo = `s3://${lockBucket}/with-repo`;
    const init = await bulwark(
      [
        'init',
        '--repo',
        repo,
        '--endpoint',
        conn().endpoint,
        '--lock-days',
        '1',
        '--lock-mode',
        'governance',
      ],
      ownerKeys(),
      { BULWARK_PASSWORD: 'pw', BULWARK_KDF_N: '1024' },
    );
    expect(init.code).toBe(0);
    const r = await bulwark(check(repo), ownerKeys());
    expect(r.stderr).toContain('(GOVERNANCE, the repository’s)');
    expect(r.code).toBe(1); // the owner can bypass GOVERNANCE on RGW
    const fresh = await bulwark(check(`s3://${lockBucket}/no-repo-yet`), ownerKeys());
    expect(fresh.stderr).toContain('(COMPLIANCE, default)');
    expect(fresh.code).toBe(0);
  });

  it('a folder target: tamper-evident, not immutable (exit 1), with the way to immutability', async () => {
    const dir = path.join(tmp, 'folder-repo');
    const r = await bulwark(['target', 'check', '--repo', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('tamper-evident, NOT immutable');
    expect(r.stdout).toContain('S3 service with Object Lock');
    const j = await bulwark(['target', 'check', '--repo', dir, '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({
      immutable: false,
      verdict: 'tamper-evident, not immutable',
    });
    expect(fs.existsSync(dir)).toBe(false); // nothing created
  });

  it('usage errors exit 2', async () => {
    const r = await bulwark(check(`s3://${lockBucket}`, '--probe-days', '0'), ownerKeys());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--probe-days');
    const m = await bulwark(check(`s3://${lockBucket}`, '--mode', 'legal'), ownerKeys());
    expect(m.code).toBe(2);
  });
});
