import type { Command } from 'commander';
import { forget, type ForgetResult } from '../../engine/retention/forget.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { localTime, plural, table, termSafe } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import type { Output } from '../output.ts';
import { collect } from '../parse.ts';
import { withRepository, type CommandEnv } from '../repo-open.ts';

interface ForgetCmdOptions extends CommonOptions {
  dryRun?: boolean;
  source?: string[];
}

export function registerForget(program: Command, app: App): void {
  const cmd = program
    .command('forget')
    .description(
      "apply each source's retention policy (`bulwark policy`): remove the snapshots it no longer keeps once their " +
        'locks have ended (locked ones stay and are listed), and lock longer-term keepers for their tier; ' +
        '`bulwark prune` then frees the space',
    )
    .option('--dry-run', 'only show what would be removed, kept and locked longer')
    .option('--source <name>', 'only this source (repeatable; default: every source with a policy)', collect);
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.action(async (opts: ForgetCmdOptions) => {
    app.exitCode = await runForget(opts, begin(app, opts));
  });
}

async function runForget(opts: ForgetCmdOptions, ctx: CommandEnv): Promise<number> {
  const { out, signal } = ctx;
  return withRepository(opts, ctx, {}, async ({ repo }) => {
    const r = await forget(repo, {
      dryRun: opts.dryRun === true,
      ...(opts.source ? { sources: opts.source } : {}),
      actor: 'cli',
      signal,
    });
    if (out.json) out.jsonResult(r);
    else printForget(out, r);
    const errors = r.sources.reduce((n, s) => n + s.errors.length, 0);
    if (errors > 0) {
      out.warn(`bulwark: ${plural(errors, 'snapshot')} could not be handled (listed above)`);
      return EXIT.FAILURE;
    }
    return EXIT.OK;
  });
}

const when = (iso: string | undefined): string => (iso === undefined ? '-' : localTime(iso));

function printForget(out: Output, r: ForgetResult): void {
  const verb = r.dryRun ? 'would ' : '';
  for (const s of r.sources) {
    out.line(`source ${termSafe(s.source)}`);
    const rows: string[][] = [];
    for (const k of s.keep) {
      const what = k.promoted
        ? `${verb}lock as ${k.promoted.tier} until ${localTime(k.promoted.until)}` +
          (k.promoted.lockExtensions > 0 ? ` (${plural(k.promoted.lockExtensions, 'lock')} extended)` : '')
        : `protected until ${when(k.protectedUntil)}`;
      rows.push(['keep', k.id.slice(0, 8), localTime(k.time), k.reasons.join('+'), what]);
    }
    for (const f of s.forgotten) rows.push([`${verb}forget`, f.id.slice(0, 8), localTime(f.time), '', '']);
    for (const l of s.locked) {
      const until = l.lockedUntil ? `locked until ${localTime(l.lockedUntil)}` : 'under legal hold';
      rows.push(['kept', l.id.slice(0, 8), localTime(l.time), '', `${until} (${l.reasons.join(', ')})`]);
    }
    rows.sort((a, b) => ((b[2] ?? '') < (a[2] ?? '') ? -1 : (b[2] ?? '') > (a[2] ?? '') ? 1 : 0));
    for (const l of table(['', '', '', '', ''], rows).slice(1)) out.line(`  ${l}`);
    for (const e of s.errors) out.line(`  error    ${e.id.slice(0, 8)}  ${termSafe(e.message)}`);
  }
  out.line(
    `${r.dryRun ? 'dry run: ' : ''}${plural(r.forgotten, 'snapshot')} ${r.dryRun ? 'would be ' : ''}forgotten, ` +
      `${r.locked} kept because still locked, ${r.promoted} ${r.dryRun ? 'to lock' : 'locked'} longer for their tier` +
      (r.lockExtensions > 0 ? ` (${plural(r.lockExtensions, 'lock')} extended)` : ''),
  );
  if (r.withoutPolicy.length > 0) {
    out.note(
      `note: ${plural(r.withoutPolicy.length, 'source')} without a retention policy, all of its snapshots kept: ` +
        `${termSafe(r.withoutPolicy.join(', '))} (set one with \`bulwark policy set --source NAME --template ...\`)`,
    );
  }
  if (r.dryRun) out.note('note: dry run: nothing was changed');
  else if (r.forgotten > 0) out.note('note: run `bulwark prune` to free the space of forgotten snapshots');
}
