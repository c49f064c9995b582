import type { Command } from 'commander';
import { diffSnapshots } from '../../engine/ops/diff.ts';
import type { DiffChange } from '../../engine/ops/types.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { termSafe } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import { withRepository, type CommandEnv } from '../repo-open.ts';

/** One-letter markers, as in the command's help. */
export const DIFF_MARK: Record<DiffChange, string> = {
  added: '+',
  removed: '-',
  modified: 'M',
  'type-changed': 'T',
  metadata: 'm',
};

export function registerDiff(program: Command, app: App): void {
  const cmd = program
    .command('diff')
    .description(
      'show what changed between two snapshots (+ added, - removed, M modified, T type changed, m metadata)',
    )
    .argument('<snapshot1>', 'the older snapshot (id, unique prefix, or "latest")')
    .argument('<snapshot2>', 'the newer snapshot');
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.action(async (a: string, b: string, opts: CommonOptions) => {
    app.exitCode = await runDiff(a, b, opts, begin(app, opts));
  });
}

async function runDiff(a: string, b: string, opts: CommonOptions, ctx: CommandEnv): Promise<number> {
  const { out } = ctx;
  return withRepository(opts, ctx, {}, async ({ repo }) => {
    const changes = await diffSnapshots(repo, a, b);
    if (out.json) out.jsonResult(changes);
    else for (const c of changes) out.line(`${DIFF_MARK[c.change]} ${termSafe(c.path)}`);
    return EXIT.OK;
  });
}
