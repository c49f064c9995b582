/**
 * Disaster recovery from an S3 repository with Object Lock on the real Ceph RGW of the test run: a fresh
 * BULWARK_HOME (a new computer that knows only the bucket, its keys and the password) runs `bulwark connect`,
 * then `bulwark restore`, and gets the source back byte for byte; a drill there passes. And what a command
 * sends before it derives the key, seen through a proxy that holds every request.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFaultProxy } from '../harness/fault-proxy.ts';
import { acquireRgw, uniqueBucketName, type RgwHandle } from '../harness/rgw.ts';
import { runBulwark, type Result } from './helpers.ts';
import { treeOf } from './tree.ts';

let rgw: RgwHandle;
let tmp = '';
let repo = '';

beforeAll(async () => {
  rgw = await acquireRgw(inject('rgw'));
  const bucket = uniqueBucketName('cli-connect');
  await rgw.createBucket(bucket, { objectLock: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  repo = `s3://${bucket}/office`;
}, 180_000);

afterAll(async () => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  await rgw?.release();
});

const s3 = (home: string, cmd: string, ...rest: string[]): Promise<Result> =>
  s3At(rgw.endpoint, repo, home, cmd, ...rest);

const s3At = (endpoint: string, at: string, home: string, cmd: string, ...rest: string[]): Promise<Result> =>
  runBulwark(
    [cmd, '--repo', at, '--endpoint', endpoint, ...rest],
    { home: path.join(tmp, home), tmp },
    {
      AWS_ACCESS_KEY_ID: rgw.accessKeyId,
      AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey,
      AWS_REGION: rgw.region,
      AWS_CONFIG_FILE: path.join(tmp, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'no-aws-credentials'),
    },
  );

describe('bulwark connect on an S3 repository (Ceph RGW, Object Lock)', () => {
  it('a fresh HOME + connect + restore reproduces the source byte for byte', async () => {
    const src = path.join(tmp, 'office');
    fs.mkdirSync(path.join(src, 'Invoices'), { recursive: true });
    for (let i = 0; i < 6; i++)
      fs.writeFileSync(path.join(src, 'Invoices', `INV-${i}.pdf`), randomBytes(50_000 + i));
    fs.writeFileSync(path.join(src, 'notes.txt'), 'closing the books on Friday\n');
    expect((await s3('old', 'init', '--lock-days', '1')).code).toBe(0);
    const b = await s3('old', 'backup', src);
    expect(b.code, b.stderr).toBe(0);

    const c = await s3('new', 'connect', '--json');
    expect(c.code, c.stderr).toBe(0);
    const j = JSON.parse(c.stdout) as { snapshots: { id: string }[] };
    expect(j.snapshots.map((s) => s.id)).toEqual([b.stdout.trim()]);
    const target = path.join(tmp, 'restored');
    const r = await s3('new', 'restore', 'latest', '--target', target);
    expect(r.code, r.stderr).toBe(0);
    const want = treeOf(src);
    const got = treeOf(path.join(target, 'office'));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, v] of want) expect(got.get(k), k).toEqual(v);

    const d = await s3('new', 'drill', '--json', '--rto', '60');
    expect(d.code, d.stderr).toBe(0);
    expect(JSON.parse(d.stdout)).toMatchObject({ passed: true, filesTested: 7, rtoVerdict: 'met' });
  });
});

describe('a command on an S3 repository', () => {
  it("asks for the key's listing beside the config's, not after it (one round trip less before the key)", async () => {
    const at = `${repo}-trips`;
    expect((await s3At(rgw.endpoint, at, 'trips', 'init')).code).toBe(0);
    // every request held 40 ms on its way: the order of arrival shows which request waited for which
    const proxy = await startFaultProxy({
      target: rgw.endpoint,
      rates: { delay: 1 },
      delayMs: { min: 40, max: 40 },
      upstreamKeepAlive: false,
    });
    try {
      const r = await s3At(proxy.endpoint, at, 'trips', 'snapshots', '--json');
      expect(r.code, r.stderr).toBe(0);
      const urls = proxy.log.map((e) => `${e.method} ${decodeURIComponent(e.url)}`);
      const keysListed = urls.findIndex(
        (u) =>
          /^GET \/[^/?]+\/?\?/.test(u) && u.includes('versions') && u.includes('prefix=office-trips/keys/'),
      );
      const configRead = urls.findIndex((u) => /^GET \/[^/?]+\/office-trips\/config(\?|$)/.test(u));
      expect(keysListed, urls.join('\n')).toBeGreaterThanOrEqual(0);
      expect(configRead, urls.join('\n')).toBeGreaterThanOrEqual(0);
      expect(keysListed, urls.join('\n')).toBeLessThan(configRead);
    } finally {
      await proxy.close();
    }
  });
});

describe('the key kept for the next command (cli/unlock-ahead.ts)', () => {
  const hintsOf = (home: string): string[] => {
    const dir = path.join(tmp, home, 'cache', 'key-hints');
    return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  };

  it('init keeps the key it stored; a kept key since replaced still opens with the right key', async () => {
    const at = `${repo}-hint`;
    expect((await s3At(rgw.endpoint, at, 'hint', 'init')).code).toBe(0);
    const kept = hintsOf('hint');
    expect(kept).toHaveLength(1);
    const hintFile = path.join(tmp, 'hint', 'cache', 'key-hints', kept[0] as string);
    const hint = JSON.parse(fs.readFileSync(hintFile, 'utf8')) as { kdf: { salt: string } };
    const src = path.join(tmp, 'hint-src');
    fs.mkdirSync(src, { recursive: true });
    fs.writeFileSync(path.join(src, 'a.txt'), 'kept key\n');
    const b = await s3At(rgw.endpoint, at, 'hint', 'backup', src);
    expect(b.code, b.stderr).toBe(0);

    // The kept copy replaced by another repository's key (same password): only time is lost.
    const other = `${repo}-hint-other`;
    expect((await s3At(rgw.endpoint, other, 'hint-other', 'init')).code).toBe(0);
    const otherHint = path.join(tmp, 'hint-other', 'cache', 'key-hints', hintsOf('hint-other')[0] as string);
    fs.copyFileSync(otherHint, hintFile);
    expect(JSON.parse(fs.readFileSync(hintFile, 'utf8'))).not.toMatchObject({ kdf: { salt: hint.kdf.salt } });
    const s = await s3At(rgw.endpoint, at, 'hint', 'snapshots', '--json');
    expect(s.code, s.stderr).toBe(0);
    expect((JSON.parse(s.stdout) as { id: string }[]).map((x) => x.id)).toEqual([b.stdout.trim()]);
    // and the open put the key that opened back in its place
    expect(JSON.parse(fs.readFileSync(hintFile, 'utf8'))).toMatchObject({ kdf: { salt: hint.kdf.salt } });
  });
});
