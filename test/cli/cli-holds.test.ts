/**
 * `bulwark hold --off` on one of two held snapshots that share objects, against the real Ceph RGW of the
 * test run: it says in plain words how many objects it released and how many stay held for the other
 * snapshot, and `verify --locks` still shows that one held.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { acquireRgw, uniqueBucketName, type RgwHandle } from '../harness/rgw.ts';
import { runBulwark, type Result } from './helpers.ts';

let rgw: RgwHandle;
let tmp = '';
let home = '';
let repo = '';

beforeAll(async () => {
  rgw = await acquireRgw(inject('rgw'));
  const bucket = uniqueBucketName('cli-holds');
  await rgw.createBucket(bucket, { objectLock: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  home = path.join(tmp, 'home');
  repo = `s3://${bucket}/repo-${randomBytes(3).toString('hex')}`;
}, 180_000);

afterAll(async () => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  await rgw?.release();
});

const s3 = (cmd: string, ...rest: string[]): Promise<Result> =>
  runBulwark(
    [cmd, '--repo', repo, '--endpoint', rgw.endpoint, ...rest],
    { home, tmp },
    {
      AWS_ACCESS_KEY_ID: rgw.accessKeyId,
      AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey,
      AWS_REGION: rgw.region,
      AWS_CONFIG_FILE: path.join(tmp, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'no-aws-credentials'),
    },
  );

describe('bulwark hold --off with two held snapshots', () => {
  it('releases only what the other held snapshot does not need, and says so', async () => {
    expect((await s3('init', '--lock-days', '1')).code).toBe(0);
    const src = path.join(tmp, 'src');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'shared.bin'), randomBytes(200_000));
    const b1 = await s3('backup', src);
    expect(b1.code).toBe(0);
    fs.writeFileSync(path.join(src, 'two.txt'), 'only in the second\n');
    const b2 = await s3('backup', src);
    expect(b2.code).toBe(0);
    const [s1, s2] = [b1.stdout.trim(), b2.stdout.trim()];
    expect((await s3('hold', s1)).code).toBe(0);
    expect((await s3('hold', s2)).code).toBe(0);

    const off = await s3('hold', s1, '--off');
    expect(off.code).toBe(0);
    const m = new RegExp(
      `^snapshot ${s1.slice(0, 8)}: (\\d+) objects? released from legal hold; (\\d+) objects stay held because ` +
        `another held snapshot needs them \\(${s2.slice(0, 8)}\\)$`,
      'm',
    ).exec(off.stdout);
    expect(off.stdout).toMatch(/released from legal hold; \d+ objects stay held/);
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(1); // its snapshot object, its own tree pack and index
    expect(Number(m?.[2])).toBeGreaterThanOrEqual(3); // config, key, the shared pack (and its index)

    const report = JSON.parse((await s3('verify', '--locks', '--json')).stdout) as {
      snapshots: { id: string; held: boolean }[];
    };
    expect(report.snapshots.find((s) => s.id === s2)?.held).toBe(true);
    expect(report.snapshots.find((s) => s.id === s1)?.held).toBe(false);

    const last = await s3('hold', s2, '--off', '--json');
    expect(last.code).toBe(0);
    expect(JSON.parse(last.stdout)).toMatchObject({ snapshot: s2, held: false, keptHeld: 0, keptFor: [] });
  });
});
