import { InvalidArgumentError, type Command } from 'commander';
import { BulwarkError } from '../../engine/errors.ts';
import {
  listRetentionPolicies,
  setRetentionPolicy,
  type PolicyRecord,
} from '../../engine/retention/policies.ts';
import type { RetentionPolicy } from '../../engine/retention/policy.ts';
import {
  describePolicy,
  retentionTemplate,
  type RetentionTemplateId,
} from '../../engine/retention/templates.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { localTime, termSafe } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import type { Output } from '../output.ts';
import { withRepository, type CommandEnv } from '../repo-open.ts';

/** Template names on the command line (short forms included). */
const TEMPLATES: Record<string, RetentionTemplateId> = {
  'office-files': 'office-files',
  office: 'office-files',
  accounting: 'accounting-10y',
  'accounting-10y': 'accounting-10y',
  medical: 'medical-records',
  'medical-records': 'medical-records',
  custom: 'custom',
};

interface PolicySetOptions extends CommonOptions {
  source: string;
  template?: string;
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  keepWithin?: number;
  lockDaily?: number;
  lockWeekly?: number;
  lockMonthly?: number;
  lockYearly?: number;
  timeZone?: string;
}

interface PolicyShowOptions extends CommonOptions {
  source?: string;
}

/** commander parser: a whole number >= 0 (0 switches a rule off). */
function count(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError('expected a whole number (0 or more).');
  }
  return n;
}

export function registerPolicy(program: Command, app: App): void {
  const policy = program
    .command('policy')
    .description('retention policies per source: how many snapshots to keep, and how long each stays locked');

  const set = policy
    .command('set')
    .description(
      'set the retention policy of a source from a template (office-files, accounting, medical, custom), ' +
        'optionally changed by the options below; `bulwark forget` applies it',
    )
    .requiredOption(
      '--source <name>',
      'the source: the name given to `backup --source` (see `bulwark snapshots`)',
    )
    .option('--template <name>', 'office-files | accounting | medical | custom (default: custom)')
    .option('--keep-last <n>', 'keep the N most recent snapshots', count)
    .option('--keep-hourly <n>', 'keep the last snapshot of each of the N most recent hours', count)
    .option('--keep-daily <n>', 'keep the last snapshot of each of the N most recent days', count)
    .option('--keep-weekly <n>', 'keep the last snapshot of each of the N most recent weeks', count)
    .option('--keep-monthly <n>', 'keep the last snapshot of each of the N most recent months', count)
    .option('--keep-yearly <n>', 'keep the last snapshot of each of the N most recent years', count)
    .option('--keep-within <days>', 'keep every snapshot of the DAYS days before the newest', count)
    .option('--lock-daily <days>', 'lock period of daily (and hourly, last, within) snapshots', count)
    .option('--lock-weekly <days>', 'lock period of weekly snapshots', count)
    .option('--lock-monthly <days>', 'lock period of monthly snapshots', count)
    .option('--lock-yearly <days>', 'lock period of yearly snapshots', count)
    .option('--time-zone <zone>', 'time zone of days, weeks, months, years (default: this computer’s)');
  repoOptions(set);
  outputOptions(set);
  set.action(async (opts: PolicySetOptions) => {
    app.exitCode = await runSet(opts, begin(app, opts));
  });

  const show = policy
    .command('show')
    .description('show the retention policy of every source (or one), in plain words')
    .option('--source <name>', 'only this source');
  repoOptions(show);
  outputOptions(show);
  show.action(async (opts: PolicyShowOptions) => {
    app.exitCode = await runShow(opts, begin(app, opts));
  });
}

function buildPolicy(opts: PolicySetOptions): { policy: RetentionPolicy; template: RetentionTemplateId } {
  const name = opts.template ?? 'custom';
  const template = TEMPLATES[name];
  if (template === undefined) {
    throw new BulwarkError('INVALID_ARGUMENT', `no retention template "${name}"`, {
      hint: 'Choose office-files, accounting, medical or custom.',
    });
  }
  const timeZone = opts.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const policy: RetentionPolicy = structuredClone(retentionTemplate(template, timeZone).policy);
  const counts: [keyof RetentionPolicy, number | undefined][] = [
    ['keepLast', opts.keepLast],
    ['keepHourly', opts.keepHourly],
    ['keepDaily', opts.keepDaily],
    ['keepWeekly', opts.keepWeekly],
    ['keepMonthly', opts.keepMonthly],
    ['keepYearly', opts.keepYearly],
    ['keepWithinDays', opts.keepWithin],
  ];
  for (const [k, v] of counts) if (v !== undefined) Object.assign(policy, { [k]: v });
  if (opts.lockDaily !== undefined) policy.lockDays.daily = opts.lockDaily;
  if (opts.lockWeekly !== undefined) policy.lockDays.weekly = opts.lockWeekly;
  if (opts.lockMonthly !== undefined) policy.lockDays.monthly = opts.lockMonthly;
  if (opts.lockYearly !== undefined) policy.lockDays.yearly = opts.lockYearly;
  return { policy, template };
}

async function runSet(opts: PolicySetOptions, ctx: CommandEnv): Promise<number> {
  const { out, signal } = ctx;
  const { policy, template } = buildPolicy(opts);
  describePolicy(policy); // validates before the password is asked for
  return withRepository(opts, ctx, {}, async ({ repo }) => {
    const known = repo.catalog.snapshots(repo.rid).some((s) => s.source === opts.source);
    const rec = await setRetentionPolicy(repo, opts.source, policy, { template, actor: 'cli', signal });
    if (out.json) out.jsonResult(rec);
    else printPolicy(out, rec);
    if (!known) {
      out.warn(
        `warning: no snapshot of source "${termSafe(opts.source)}" yet: check the name (it must match \`backup --source\`, ` +
          'or host:paths for backups without one; `bulwark snapshots` shows them)',
      );
    }
    return EXIT.OK;
  });
}

async function runShow(opts: PolicyShowOptions, ctx: CommandEnv): Promise<number> {
  const { out, signal } = ctx;
  return withRepository(opts, ctx, {}, async ({ repo }) => {
    const all = [...(await listRetentionPolicies(repo, signal)).values()].filter(
      (r) => opts.source === undefined || r.source === opts.source,
    );
    if (out.json) {
      out.jsonResult(all);
      return EXIT.OK;
    }
    if (all.length === 0) {
      out.line(
        opts.source === undefined
          ? 'no retention policy: every snapshot is kept'
          : `no retention policy for ${termSafe(opts.source)}: every snapshot is kept`,
      );
      return EXIT.OK;
    }
    all.forEach((r, i) => {
      if (i > 0) out.line();
      printPolicy(out, r);
    });
    return EXIT.OK;
  });
}

function printPolicy(out: Output, r: PolicyRecord): void {
  const from = r.template && r.template !== 'custom' ? `, from template ${r.template}` : '';
  out.line(`source ${termSafe(r.source)} (set ${localTime(r.time)} on ${termSafe(r.host)}${from})`);
  for (const l of describePolicy(r.policy)) out.line(`  ${l}`);
}
