/**
 * A frozen server: an S3 repository (Object Lock, governance, 1 day) on the test Ceph RGW, reached through
 * a proxy that freezes (test/engine/helpers/freezing-proxy.ts: it keeps every connection and never answers
 * again). Per trial, on a fresh prefix and computer, the initial backup of v1 meets a server that freezes
 * either at its k-th request (k at random among the requests a normal backup makes: the open, the
 * listings, a pack, the index, the snapshot, the audit entry) or in the middle of a pack upload (after a
 * random number of bytes). The backup must fail within a bounded time saying the server "stopped
 * answering"; then, through a proxy that answers, the next backup completes, `verify --read-data` passes
 * and restore latest equals the source.
 */
import * as path from 'node:path';
import { startFreezingProxy, type FreezingProxy } from '../../test/engine/helpers/freezing-proxy.ts';
import { brief, said, type Cli } from './cli.ts';
import { newTrial, plainFailure, rmTree, type KindContext, type TrialResult } from './common.ts';
import { restoreAndCompare } from './kill.ts';

export interface S3Access {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** a bucket with Object Lock */
  bucket: string;
}

/**
 * What a frozen backup may take to give up, as documented (DECISIONS, Failures that must not look like
 * success): a silent request is given up after 30 s, retried within a 60 s deadline per operation. Longer
 * is reported; a backup still running after FROZEN_LIMIT_MS is killed and counts as undetected.
 */
export const FROZEN_EXPECTED_MS = 100_000;
export const FROZEN_LIMIT_MS = 300_000;

export async function frozenKind(ctx: KindContext, s3: S3Access, stamp: string): Promise<TrialResult[]> {
  const { corpus, rand } = ctx;
  const env = {
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
  };
  const cliFor = (home: string): Cli => ctx.cli(home, env);
  const repoArgs = (prefix: string, endpoint: string): string[] => [
    '--repo',
    `s3://${s3.bucket}/${prefix}`,
    '--endpoint',
    endpoint,
    '--region',
    s3.region,
  ];
  const proxies: FreezingProxy[] = [];
  const proxy = async (): Promise<FreezingProxy> => {
    const p = await startFreezingProxy(s3.endpoint);
    proxies.push(p);
    return p;
  };
  const results: TrialResult[] = [];
  try {
    // A normal initial backup through the proxy: how many requests it makes, how long it takes.
    const calProxy = await proxy();
    const calCli = cliFor(path.join(ctx.work, 'calibrate-home'));
    const calRepo = repoArgs(`torture-${stamp}-calibrate`, calProxy.endpoint);
    const init = await calCli.run([
      'init',
      ...calRepo,
      '--lock-days',
      '1',
      '--lock-mode',
      'governance',
      '-q',
    ]);
    if (init.code !== 0) throw new Error(`init on the S3 server: ${brief(init, 4)}`);
    const at = calProxy.log.length;
    const cal = await calCli.run(['backup', ...calRepo, corpus.v1, '-q']);
    if (cal.code !== 0) throw new Error(`a normal backup to the S3 server: ${brief(cal, 4)}`);
    const requests = calProxy.log.length - at;
    const packPuts = calProxy.log
      .slice(at)
      .filter((l) => l.startsWith('PUT') && l.includes('/packs/')).length;
    ctx.log(
      `frozen: a normal backup makes ${requests} requests (${packPuts} pack uploads) in ${Math.round(cal.ms)} ms`,
    );
    await calProxy.close();
    if (!ctx.keep) rmTree(path.join(ctx.work, 'calibrate-home'));

    for (let i = 1; i <= ctx.trials; i++) {
      const mode = packPuts > 0 && rand.int(3) === 0 ? 'upload' : 'request';
      const k = rand.between(1, Math.max(1, requests));
      const afterBytes = rand.between(0, 1 << 20);
      const t = newTrial(
        'frozen',
        'frozen S3 server',
        i,
        mode === 'upload'
          ? `frozen ${afterBytes} bytes into the first pack upload`
          : `frozen at request ${k} of ${requests}`,
      );
      const t0 = performance.now();
      const home = path.join(ctx.work, `home-${i}`);
      const cli = cliFor(home);
      const prefix = `torture-${stamp}-t${i}`;
      try {
        const p = await proxy();
        const repo = repoArgs(prefix, p.endpoint);
        const init = await cli.run(['init', ...repo, '--lock-days', '1', '--lock-mode', 'governance', '-q']);
        if (init.code !== 0) throw new Error(`init: ${brief(init, 4)}`);
        const start = p.log.length;
        let seen = 0; // requests of this backup so far
        if (mode === 'upload')
          p.freezeWhen((r) => r.method === 'PUT' && r.url.includes('/packs/'), afterBytes);
        else
          p.freezeWhen(() => {
            if (++seen >= k) p.freeze();
            return false;
          }, 0);

        // the fault
        const b = await cli.run(['backup', ...repo, corpus.v1, '-q'], FROZEN_LIMIT_MS);
        const mine = p.log.slice(start); // requests of this backup
        const frozenAt =
          mode === 'request' ? mine[k - 1] : mine.find((l) => l.startsWith('PUT') && l.includes('/packs/'));
        const text = said(b);
        t.variant += ` (${frozenAt ?? '?'}); gave up after ${(b.ms / 1000).toFixed(1)} s`;
        if (!p.frozen) {
          t.triggered = false;
          t.notes.push(`the backup ended (${brief(b)}) before the server froze`);
        } else if (b.code === 0) {
          const warned = /stopped answering/.test(text);
          t.detected = warned;
          t.named = warned && text.includes(p.endpoint);
          if (warned) t.notes.push(`the backup succeeded and warned: ${brief(b, 3)}`);
          else t.problems.push(`the backup exited 0 although the server froze: ${brief(b, 3)}`);
        } else {
          const plain = plainFailure(b);
          const stopped = /stopped answering|does not answer/.test(text);
          t.detected = plain.plain && stopped;
          t.named = t.detected && text.includes(p.endpoint);
          if (!plain.plain) t.problems.push(`the failed backup: ${plain.why}: ${brief(b, 4)}`);
          else if (!stopped)
            t.problems.push(`the failed backup does not say the server stopped answering: ${brief(b, 4)}`);
        }
        if (b.timedOut) t.problems.push(`the backup did not give up within ${FROZEN_LIMIT_MS / 1000} s`);
        else if (p.frozen && b.ms > FROZEN_EXPECTED_MS) {
          // what it sent the frozen server after the first request that got no answer
          const at = frozenAt === undefined ? -1 : mine.indexOf(frozenAt);
          const later =
            at < 0
              ? []
              : mine
                  .slice(at + 1)
                  .map((l) => l.replace(/\?.*$/, '').replace(`/${s3.bucket}/${prefix}/`, '…/'));
          const counts = new Map<string, number>();
          for (const l of later) counts.set(l, (counts.get(l) ?? 0) + 1);
          t.problems.push(
            `it took ${(b.ms / 1000).toFixed(0)} s to give up (expected within ${FROZEN_EXPECTED_MS / 1000} s: 30 s of silence, ` +
              `retried within 60 s); after the first unanswered request it sent ${later.length} more: ` +
              [...counts].map(([l, n]) => `${l}${n > 1 ? ` x${n}` : ''}`).join(', '),
          );
        }
        await p.close();

        // the server answers again (a proxy that does not freeze): backup, verify, restore
        const q = await proxy();
        const repo2 = repoArgs(prefix, q.endpoint);
        const next = await cli.run(['backup', ...repo2, corpus.v1, '-q'], FROZEN_LIMIT_MS);
        if (next.code !== 0) t.problems.push(`the next backup: ${brief(next, 6)}`);
        const v = await cli.run(['verify', ...repo2, '--read-data', '-q'], FROZEN_LIMIT_MS);
        if (v.code !== 0) t.problems.push(`verify --read-data: ${brief(v, 6)}`);
        const r = await restoreAndCompare(
          cli,
          repo2,
          'latest',
          path.join(ctx.work, `out-${i}`),
          corpus.m1,
          t,
          'restore latest',
        );
        t.lost += r.lost;
        t.recovered = next.code === 0 && v.code === 0 && r.identical;
        await q.close();
      } catch (e) {
        t.problems.push(`trial failed: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        if (!ctx.keep) rmTree(home);
      }
      t.seconds = (performance.now() - t0) / 1000;
      ctx.log(
        `frozen ${i}/${ctx.trials}: ${t.variant}: ${t.problems.length === 0 ? 'clean' : t.problems.join('; ')}`,
      );
      results.push(t);
    }
  } finally {
    for (const p of proxies) await p.close().catch(() => {});
  }
  return results;
}
