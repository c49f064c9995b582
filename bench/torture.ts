#!/usr/bin/env node
/**
 * The fault campaign (`npm run torture`): kill -9 mid-backup, a flipped byte in every kind of repository
 * object, a full disk under the repository and under a restore, a frozen S3 server; each against the real
 * CLI and real files, each followed by what a person would do next. See USAGE.
 *
 *   node bench/torture.ts [--trials N] [--kinds kill,flip,full-repo,full-target,frozen] [--seed S]
 *                         [--keep] [--json] [--scale S] [--small-files N] [--out DIR] [--cli FILE]
 *
 * Progress goes to stderr, the table and the details to stdout. Exit 0: no data lost and every fault
 * detected; 1: data lost where it must not be, a fault went undetected, or a kind could not run; 2: usage.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  connectRgw,
  missingRgwPrograms,
  RGW_INSTALL_HINT,
  rgwFromEnv,
  startRgw,
} from '../test/harness/rgw.ts';
import { formatReport, runCampaign, type CampaignOptions } from './torture/campaign.ts';
import { killAllCommands } from './torture/cli.ts';
import { KINDS, type KindName } from './torture/common.ts';
import type { S3Access } from './torture/frozen.ts';
import { unmountAll } from './torture/mount.ts';

const USAGE = `usage: node bench/torture.ts [options]   (npm run torture -- [options])

Builds a small corpus (bench/corpus.ts makeCorpus at --scale, plus --small-files small files; v1, and v2
after a working day), then per kind of fault runs N trials against the real \`bulwark\` command:

  kill         kill -9 of a backup after a random delay (50 ms .. its normal duration); then a normal
               backup, verify --read-data, restore latest = the source
  flip         one byte flipped in a random object of each kind of a copy of a folder repository
               (config, keys, packs: a data blob, a tree blob, the trailer; index, snapshots, audit,
               policies, tiers; holds/forgotten/prune where present): what verify --read-data says, what
               every snapshot restores, then the next backup
  full-repo    the repository on a small tmpfs: the backup fails saying there is no space; with room again
               the next backup completes and verifies (needs root for mount; skipped otherwise)
  full-target  a restore onto a small tmpfs: it fails saying how much room it needs, leaves nothing
               half-written; with room again it completes (needs root for mount)
  frozen       an S3 repository on the test Ceph RGW behind a proxy that freezes: the backup fails within
               a bounded time ("stopped answering"); then the next backup, verify, restore (uses the RGW of
               BULWARK_TEST_RGW, else starts one; skipped when Ceph is not installed). Each frozen trial
               waits out the store's timeouts (about a minute); it runs alongside the other kinds.

  --trials N        trials per kind (flip: per kind of object)              default 5
  --kinds LIST      comma-separated subset of ${KINDS.join(',')}
  --seed S          the corpus and every random choice                      default 42
  --scale S         corpus scale (1 = about 1 GiB)                          default 0.02
  --small-files N   extra small files in the corpus                         default 300
  --keep            leave the scratch folder <out>/torture-<time>
  --json            also write <out>/torture-<time>.json
  --verbose         notes of every trial in the details
  --out DIR         scratch space and results                              default <repo>/.bench
  --cli FILE        the CLI entry point                                     default src-main/cli/main.ts
  -h, --help        this text

Exit status: 0 no data lost and every fault detected; 1 data lost where it must not be, a fault went
undetected, or a kind could not run; 2 usage error.`;

class UsageError extends Error {}

interface Parsed {
  options: Omit<CampaignOptions, 's3' | 'log' | 'scratch'>;
  out: string;
  json: boolean;
  verbose: boolean;
}

function parse(argv: string[], repoRoot: string): Parsed | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      trials: { type: 'string' },
      kinds: { type: 'string' },
      seed: { type: 'string' },
      scale: { type: 'string' },
      'small-files': { type: 'string' },
      keep: { type: 'boolean' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
      out: { type: 'string' },
      cli: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
  const num = (name: string, raw: string | undefined, dflt: number, int: boolean, min: number): number => {
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || (int && !Number.isInteger(n)))
      throw new UsageError(`--${name} must be ${int ? 'an integer' : 'a number'} >= ${min}, got ${raw}`);
    return n;
  };
  const kinds = (values.kinds ?? KINDS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const k of kinds)
    if (!(KINDS as readonly string[]).includes(k))
      throw new UsageError(`--kinds: unknown kind ${k} (${KINDS.join(', ')})`);
  if (kinds.length === 0) throw new UsageError('--kinds selects nothing');
  const main = values.cli ? path.resolve(values.cli) : undefined;
  if (main && !fs.existsSync(main)) throw new UsageError(`--cli: ${main} does not exist`);
  const scale = num('scale', values.scale, 0.02, false, 0);
  if (scale <= 0) throw new UsageError('--scale must be > 0');
  return {
    options: {
      trials: num('trials', values.trials, 5, true, 1),
      kinds: kinds as KindName[],
      seed: num('seed', values.seed, 42, true, 0),
      keep: values.keep === true,
      corpus: { scale, smallFiles: num('small-files', values['small-files'], 300, true, 0) },
      ...(main ? { main } : {}),
    },
    out: path.resolve(values.out ?? path.join(repoRoot, '.bench')),
    json: values.json === true,
    verbose: values.verbose === true,
  };
}

/** S3 for the frozen kind: the test run's RGW (BULWARK_TEST_RGW), else one started now. */
function s3Provider(stamp: string, log: (s: string) => void): Pick<CampaignOptions, 's3' | 's3Missing'> {
  const shared = rgwFromEnv();
  const missing = shared ? [] : missingRgwPrograms();
  if (missing.length > 0)
    return { s3Missing: `Ceph RGW is not installed (missing: ${missing.join(', ')}): ${RGW_INSTALL_HINT}` };
  return {
    s3: async () => {
      let conn = shared;
      let stop: (() => Promise<void>) | undefined;
      if (!conn) {
        log('frozen: starting Ceph RGW …');
        const inst = await startRgw({ timeoutMs: 180_000 });
        conn = inst.connection;
        stop = () => inst.stop();
      }
      const h = connectRgw(conn);
      const bucket = `torture-${stamp}`.slice(0, 60);
      await h.createBucket(bucket, { objectLock: true });
      const access: S3Access = {
        endpoint: conn.endpoint,
        accessKeyId: conn.accessKeyId,
        secretAccessKey: conn.secretAccessKey,
        region: conn.region,
        bucket,
      };
      return {
        access,
        release: async () => {
          h.close();
          await stop?.();
        },
      };
    },
  };
}

async function main(): Promise<number> {
  const repoRoot = path.resolve(import.meta.dirname, '..');
  let parsed: Parsed | 'help';
  try {
    parsed = parse(process.argv.slice(2), repoRoot);
  } catch (e) {
    console.error(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === 'help') {
    console.log(USAGE);
    return 0;
  }
  const t0 = performance.now();
  const log = (s: string): void => {
    const t = (performance.now() - t0) / 1000;
    console.error(
      `[${String(Math.floor(t / 60)).padStart(2, '0')}:${String(Math.floor(t % 60)).padStart(2, '0')}] ${s}`,
    );
  };
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').toLowerCase();
  fs.mkdirSync(parsed.out, { recursive: true });
  process.on('exit', () => {
    killAllCommands();
    unmountAll();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      console.error(`\n${sig}: stopping`);
      process.exit(130); // exit handlers: commands, mounts, the RGW harness's daemons
    });
  }
  const result = await runCampaign({
    ...parsed.options,
    scratch: parsed.out,
    log,
    ...(parsed.options.kinds.includes('frozen') ? s3Provider(stamp, log) : {}),
  });
  console.log(formatReport(result, parsed.verbose));
  if (parsed.json) {
    const file = path.join(parsed.out, `torture-${stamp}.json`);
    fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    console.error(`results: ${file}`);
  }
  return result.failures.length > 0 ? 1 : 0;
}

process.exit(await main());
