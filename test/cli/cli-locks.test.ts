/**
 * The CLI side of immutable S3 targets, against the real Ceph RGW of the test run: init with Object
 * Lock, the lock line of the backup summary, PROTECTED UNTIL in `snapshots`, `verify --locks` (clean,
 * held, and with an object that dropped its lock), `hold` / `hold --off`, and the refusals on a bucket
 * without Object Lock and on a folder.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { acquireRgw, uniqueBucketName, type RgwHandle } from '../harness/rgw.ts';
import { runMain } from './helpers.ts';

const PASSWORD = 'correct horse battery staple';
const DAY = 86_400_000;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let rgw: RgwHandle;
let tmp: string;
let home: string;
let src: string;
let bucket = '';
let repo = '';

/** Runs the CLI as a child process with the test server's keys in the AWS_* variables. */
function bulwark(args: string[]): Promise<Result> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('BULWARK_') && !k.startsWith('AWS_')) env[k] = v;
  }
  Object.assign(env, {
    BULWARK_HOME: home,
    BULWARK_PASSWORD: PASSWORD,
    BULWARK_KDF_N: '1024',
    NODE_COMPILE_CACHE: path.join(tmp, 'node-compile-cache'),
    AWS_ACCESS_KEY_ID: rgw.accessKeyId,
    AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey,
    AWS_REGION: rgw.region,
    // no shared config/credentials files of whoever runs the tests
    AWS_CONFIG_FILE: path.join(tmp, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'no-aws-credentials'),
  });
  return runMain(args, env);
}

/** `bulwark CMD --repo <the locked repository> --endpoint <RGW> ...` */
const s3 = (cmd: string, ...rest: string[]): Promise<Result> =>
  bulwark([cmd, '--repo', repo, '--endpoint', rgw.endpoint, ...rest]);

const json = <T>(r: Result): T => JSON.parse(r.stdout) as T;

interface LockReportJson {
  applicable: boolean;
  ok: boolean;
  snapshots: { id: string; protectedUntil?: string; held: boolean }[];
  violations: { object: string; problem: string }[];
}

beforeAll(async () => {
  rgw = await acquireRgw(inject('rgw'));
  bucket = uniqueBucketName('cli-locks');
  await rgw.createBucket(bucket, { objectLock: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  home = path.join(tmp, 'home');
  src = path.join(tmp, 'src');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(src, 'a.txt'), 'alpha\n');
  fs.writeFileSync(path.join(src, 'sub', 'b.bin'), randomBytes(50_000));
  repo = `s3://${bucket}/repo-${randomBytes(3).toString('hex')}`;
}, 180_000);

afterAll(async () => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  await rgw?.release();
});

describe('bulwark on an S3 bucket with Object Lock', () => {
  let snap = '';

  it('init --lock-days locks the repository; backup reports the lock step', async () => {
    const init = await s3('init', '--lock-days', '3');
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('Object Lock: every object is locked in COMPLIANCE mode for 3 days');

    const b = await s3('backup', src);
    expect(b.code).toBe(0);
    snap = b.stdout.trim();
    expect(snap).toMatch(/^[0-9a-f]{32}$/);
    expect(b.stderr).toMatch(/ {2}locks: {2}\d+ extended; protected until \d{4}-\d\d-\d\d/);
  });

  it('snapshots shows how long each snapshot is protected', async () => {
    const now = Date.now();
    const [j, text] = await Promise.all([s3('snapshots', '--json'), s3('snapshots')]);
    expect(j.code).toBe(0);
    const snaps = json<{ id: string; protectedUntil: string | null; held: boolean }[]>(j);
    expect(snaps.map((s) => s.id)).toEqual([snap]);
    expect(Date.parse(snaps[0]?.protectedUntil ?? '')).toBeGreaterThanOrEqual(now + 3 * DAY - 60_000);
    expect(snaps[0]?.held).toBe(false);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('PROTECTED UNTIL');
    expect(text.stdout).toMatch(
      new RegExp(`^${snap.slice(0, 8)} .* \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  `, 'm'),
    );
  });

  it('verify --locks proves the locks from the server', async () => {
    const r = await s3('verify', '--locks');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${snap.slice(0, 8)} .*protected until \\d{4}-`, 'm'));
    expect(r.stdout).toContain('no lock violations');
    expect(r.stdout).not.toContain('HELD');
  });

  it('hold puts the snapshot under legal hold, verify --locks --json shows it, hold --off lifts it', async () => {
    const on = await s3('hold', snap.slice(0, 8));
    expect(on.code).toBe(0);
    const n = Number(/(\d+) objects put under legal hold/.exec(on.stdout)?.[1]);
    expect(n).toBeGreaterThanOrEqual(5); // config, key, pack(s), index, snapshot
    expect(on.stderr).toContain('may also lift it');
    expect(on.stderr).toContain('--lock-days');

    const held = await s3('verify', '--locks', '--json');
    expect(held.code).toBe(0);
    const report = json<LockReportJson>(held);
    expect(report).toMatchObject({ applicable: true, ok: true, violations: [] });
    expect(report.snapshots).toEqual([expect.objectContaining({ id: snap, held: true })]);
    const list = await s3('snapshots', '--json');
    expect(json<{ held: boolean }[]>(list)[0]?.held).toBe(true);

    const off = await s3('hold', snap, '--off', '--json');
    expect(off.code).toBe(0);
    expect(json<unknown>(off)).toEqual({
      snapshot: snap,
      held: false,
      objects: n,
      released: n,
      keptHeld: 0,
      keptFor: [],
    });
    const released = json<LockReportJson>(await s3('verify', '--locks', '--json'));
    expect(released.snapshots[0]?.held).toBe(false);
  });

  it('verify --locks exits 1 and explains an object stored without a lock', async () => {
    const prefix = repo.slice(`s3://${bucket}/`.length);
    const id = randomBytes(32).toString('hex');
    const name = `packs/${id.slice(0, 2)}/${id}`;
    const client = rgw.client();
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${name}`, Body: randomBytes(64) }),
    );
    const r = await s3('verify', '--locks');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`unlocked: ${name}`);
    expect(r.stderr).toContain('1 lock violation');
    expect(r.stderr).toContain('bulwark target check');
    const j = json<LockReportJson>(await s3('verify', '--locks', '--json'));
    expect(j.ok).toBe(false);
    expect(j.violations).toEqual([expect.objectContaining({ object: name, problem: 'unlocked' })]);
  });

  it('init --lock-days refuses a bucket without Object Lock and says how to get one', async () => {
    const plain = uniqueBucketName('cli-nolock');
    await rgw.createBucket(plain, { objectLock: false });
    const r = await bulwark([
      'init',
      '--repo',
      `s3://${plain}/x`,
      '--endpoint',
      rgw.endpoint,
      '--lock-days',
      '3',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^bulwark: .*no Object Lock/m);
    expect(r.stderr).toMatch(/^ {2}hint: .*Object Lock enabled/m);
  });
});

describe('locks on a folder repository', () => {
  it('verify --locks says a folder is tamper-evident and exits 0; hold refuses', async () => {
    const dir = path.join(tmp, 'folder-repo');
    expect((await bulwark(['init', '--repo', dir])).code).toBe(0);
    const v = await bulwark(['verify', '--repo', dir, '--locks']);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('not enforced by a folder target');
    expect(v.stdout).toContain('tamper-evident');
    const j = await bulwark(['verify', '--repo', dir, '--locks', '--json']);
    expect(j.code).toBe(0);
    expect(json<LockReportJson>(j)).toMatchObject({ applicable: false, ok: true });

    const h = await bulwark(['hold', '--repo', dir, 'latest']);
    expect(h.code).toBe(1);
    expect(h.stderr).toContain('legal holds need an s3:// repository');
    expect(h.stderr).toMatch(/^ {2}hint: .*Object Lock/m);
  });
});
