/**
 * The fault campaign of `npm run torture` (bench/torture.ts), bounded: one trial of each kind on a tiny
 * corpus, against the real CLI. kill -9 mid-backup, a flipped byte in every kind of repository object, a
 * full disk under the repository and under a restore (tmpfs: skipped with the reason where mount is not
 * permitted), a frozen S3 server (the run's Ceph RGW behind a freezing proxy). Whatever happens, no file
 * may be lost unnamed and every fault must be noticed in plain words.
 *
 * The frozen kind waits out the S3 store's timeouts (at least a minute), so it runs alongside the others,
 * and so does the flip kind (ten objects).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  formatReport,
  runCampaign,
  type CampaignOptions,
  type CampaignResult,
} from '../../bench/torture/campaign.ts';
import type { KindName } from '../../bench/torture/common.ts';
import { FLIP_TARGETS } from '../../bench/torture/flip.ts';
import { acquireRgw, uniqueBucketName, type RgwHandle } from '../harness/rgw.ts';

let tmp: string;
let rgw: RgwHandle | undefined;
let bucket = '';

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  rgw = await acquireRgw(inject('rgw'));
  bucket = uniqueBucketName('torture');
  await rgw.createBucket(bucket, { objectLock: true });
}, 180_000);

afterAll(async () => {
  await rgw?.release();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the fault campaign, one trial of each kind (bench/torture.ts)', () => {
  it('loses no file where it must not and notices every fault', async () => {
    const log: string[] = [];
    const base: Omit<CampaignOptions, 'kinds'> = {
      trials: 1,
      seed: 42,
      keep: false,
      scratch: tmp,
      corpus: { scale: 0.004, smallFiles: 40 },
      log: (s) => log.push(s),
    };
    const conn = rgw!;
    const run = (kinds: KindName[], extra: Partial<CampaignOptions> = {}): Promise<CampaignResult> =>
      runCampaign({ ...base, kinds, ...extra });
    const results = await Promise.all([
      run(['frozen'], {
        s3: async () => ({
          access: {
            endpoint: conn.endpoint,
            accessKeyId: conn.accessKeyId,
            secretAccessKey: conn.secretAccessKey,
            region: conn.region,
            bucket,
          },
          release: async () => {},
        }),
      }),
      run(['flip']),
      run(['kill', 'full-repo', 'full-target']),
    ]);
    const report = results.map((r) => formatReport(r)).join('\n\n');
    const context = `${report}\n\nprogress:\n${log.join('\n')}`;

    for (const r of results) {
      expect(r.errors, context).toEqual({});
      expect(r.failures, context).toEqual([]);
      for (const t of r.trials) {
        expect(t.lost, `${t.row}: ${t.variant}\n${context}`).toBe(0);
        expect(t.triggered, `${t.row}: ${t.variant}\n${context}`).toBe(true);
        if (t.detected !== null) expect(t.detected, `${t.row}: ${t.variant}\n${context}`).toBe(true);
      }
    }
    const trials = results.flatMap((r) => r.trials);
    const skipped = Object.assign({}, ...results.map((r) => r.skipped)) as CampaignResult['skipped'];
    // every kind ran (the full-disk kinds may be skipped, saying why, where mount is not permitted)
    for (const kind of ['kill', 'flip', 'full-repo', 'full-target', 'frozen'] as const) {
      if (skipped[kind] !== undefined && kind.startsWith('full-')) {
        expect(skipped[kind], context).toMatch(/mount/);
        continue;
      }
      expect(
        trials.some((t) => t.kind === kind),
        `${kind} ran no trial\n${context}`,
      ).toBe(true);
    }
    // a flip in every kind of object the repository holds (no holds, forgotten or prune records here)
    const rows = new Set(trials.filter((t) => t.kind === 'flip').map((t) => t.row));
    for (const target of FLIP_TARGETS.slice(0, 10)) expect(rows, context).toContain(`flip ${target}`);
    // the kill came while the backup ran; a flipped key or config is noticed or changes nothing
    const kill = trials.find((t) => t.kind === 'kill');
    expect(kill?.recovered, context).toBe(true);
  }, 600_000);
});
