import { InvalidArgumentError, Option, type Command } from 'commander';
import { BulwarkError } from '../../engine/errors.ts';
import { readConfig } from '../../engine/repo/repository.ts';
import type { BlobStore } from '../../engine/storage/types.ts';
import type { TargetCheck, TargetReport } from '../../engine/target/check.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { outputOptions } from '../options.ts';
import type { Output, OutputOptions } from '../output.ts';
import { isS3, openTargetStore, resolveTarget, type CommandEnv } from '../repo-open.ts';

interface TargetCheckOptions extends OutputOptions {
  repo?: string;
  endpoint?: string;
  region?: string;
  mode?: 'compliance' | 'governance';
  probeDays?: number;
  principal?: string;
}

const FOLDER_EXPLANATION =
  'Folder targets (a local disk or a NAS share) are tamper-evident, not immutable: Bulwark writes each file ' +
  'once and read-only, and hashes every object into the signed snapshot chain, so `bulwark verify` detects ' +
  'any change or deletion; but whoever administers that machine (or malware running with those rights) can ' +
  'still delete or damage the backups. For immutable backups on a NAS, use its S3 service with Object Lock ' +
  '(e.g. MinIO on erasure-coded storage, or Ceph RGW) and check it with ' +
  '`bulwark target check --repo s3://BUCKET/PREFIX --endpoint URL`.';

export function registerTarget(program: Command, app: App): void {
  const target = program
    .command('target')
    .description('inspect a backup target (`bulwark target check`: is it really immutable?)');
  const cmd = target
    .command('check')
    .description(
      'self-test of an S3 target: Object Lock and versioning on the bucket, and a short-locked probe object ' +
        'that these credentials try to delete, overwrite, unlock and bypass (works before `init` too; no password)',
    )
    .option(
      '-r, --repo <location>',
      's3://bucket/prefix to check (env BULWARK_REPOSITORY; default: the embedded local repository)',
    )
    .option('--endpoint <url>', 'S3 endpoint of a self-hosted server (MinIO, Ceph, a NAS)')
    .option('--region <region>', 'S3 region')
    .addOption(
      new Option(
        '--mode <mode>',
        'the Object Lock mode to test (default: the repository’s, else compliance as `bulwark init`)',
      ).choices(['compliance', 'governance']),
    )
    .addOption(
      new Option('--probe-days <n>', 'lock the probe for N days (it cannot be deleted before)')
        .argParser(probeDays)
        .default(1),
    )
    .option(
      '--principal <arn>',
      'the writer’s ARN for the suggested bucket policy (e.g. arn:aws:iam::123456789012:user/bulwark)',
    )
    .addHelpText(
      'after',
      '\nCredentials come from the standard AWS sources: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ...\n' +
        'Exit 0: immutable with these credentials; 1: not immutable (or a folder target), or the bucket is missing\n' +
        'or unreachable; 2: usage error; 3: the keys were refused.',
    );
  outputOptions(cmd);
  cmd.action(async (opts: TargetCheckOptions) => {
    app.exitCode = await runTargetCheck(opts, begin(app, opts));
  });
}

function probeDays(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0) || n > 36_500) {
    throw new InvalidArgumentError('expected a positive number of days (at most 36500).');
  }
  return n;
}

async function runTargetCheck(opts: TargetCheckOptions, ctx: CommandEnv): Promise<number> {
  const { out } = ctx;
  const target = resolveTarget({ ...(opts.repo !== undefined ? { repo: opts.repo } : {}) }, ctx.env);
  if (!isS3(target.location)) {
    if (opts.endpoint !== undefined || opts.region !== undefined) {
      throw new BulwarkError('INVALID_ARGUMENT', '--endpoint and --region apply only to s3:// targets');
    }
    if (out.json) {
      out.jsonResult({
        location: target.location,
        immutable: false,
        verdict: 'tamper-evident, not immutable',
        checks: [],
        explanation: FOLDER_EXPLANATION,
      });
    } else {
      out.line(`${target.location} is a folder target: tamper-evident, NOT immutable.`);
      out.line(FOLDER_EXPLANATION);
    }
    return EXIT.FAILURE;
  }

  // Loaded only here: the S3 SDK is not needed by the other commands.
  const { S3Store } = await import('../../engine/storage/s3.ts');
  const { checkTarget, reachTarget } = await import('../../engine/target/check.ts');
  const { leastPrivilegePolicy } = await import('../../engine/target/policy.ts');
  const store: BlobStore = await openTargetStore(target, opts);
  try {
    if (!(store instanceof S3Store)) {
      throw new BulwarkError('INTERNAL', `${target.location} did not open as an S3 target`);
    }
    // reachable at all? (a missing bucket, wrong keys or a dead endpoint: an error with a hint)
    await reachTarget(store);
    let mode: 'COMPLIANCE' | 'GOVERNANCE';
    let modeSource: string;
    if (opts.mode !== undefined) {
      mode = opts.mode === 'governance' ? 'GOVERNANCE' : 'COMPLIANCE';
      modeSource = '--mode';
    } else {
      // a repository already there: test the mode it locks with (no password needed to read its config)
      const lock = await readConfig(store).then(
        (c) => c.lock,
        () => null,
      );
      mode = lock?.mode ?? 'COMPLIANCE';
      modeSource = lock ? 'the repository’s' : 'default';
    }
    out.note(
      `bulwark: checking ${store.location} (${mode}, ${modeSource}); writing a probe locked for ` +
        `${opts.probeDays ?? 1} day(s) under ${store.root}probes/`,
    );
    const report = await checkTarget(store, { mode, probeLockDays: opts.probeDays ?? 1 });
    if (report.policy && opts.principal !== undefined) {
      report.policy = leastPrivilegePolicy({
        bucket: store.bucket,
        prefix: store.root,
        principalArn: opts.principal,
        legalHold: true,
      });
    }
    if (out.json) out.jsonResult(report);
    else printReport(out, report);
    return report.immutable ? EXIT.OK : EXIT.FAILURE;
  } finally {
    await store.close?.();
  }
}

function mark(c: TargetCheck): string {
  if (c.skipped) return '-';
  if (c.ok) return '✓';
  return c.severity === 'fail' ? '✗' : '!';
}

function printReport(out: Output, r: TargetReport): void {
  out.line(`Target self-test of ${r.location} (${r.mode} mode)`);
  for (const c of r.checks) out.line(`  ${mark(c)} ${c.title}: ${c.detail}`);
  out.line('');
  out.line(`Verdict: ${r.verdict}`);
  if (r.advice.length > 0) {
    out.line('What to do:');
    for (const a of r.advice) out.line(`  - ${a}`);
  }
  const p = r.policy;
  if (p) {
    out.line('');
    out.line('Least-privilege bucket policy for the backup writer (set it as the bucket owner):');
    out.line(JSON.stringify(p.awsBucketPolicy, null, 2));
    out.line('As an IAM user policy: the same statements without "Principal" (`--json` prints both).');
    out.line('');
    out.line(p.explanation); // also names the Backblaze B2 key capabilities (and those it must not have)
  }
}
