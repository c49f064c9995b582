import type { Command } from 'commander';
import { prune, type PruneLocked, type PruneResult } from '../../engine/index.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { humanBytes, localTime, plural, termSafe } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import type { Output } from '../output.ts';
import { withRepository, type CommandEnv } from '../repo-open.ts';

interface PruneCmdOptions extends CommonOptions {
  dryRun?: boolean;
}

/** How many locked objects the text output names (all are in --json). */
const SHOWN = 5;

export function registerPrune(program: Command, app: App): void {
  const cmd = program
    .command('prune')
    .description(
      'free the space of data no snapshot needs any more, in two steps: this run marks unused packs, a later run ' +
        'deletes them once their locks have ended (a locked object is never deleted); refuses while prune is paused',
    )
    .option('--dry-run', 'only show what would be marked, repacked and deleted');
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.action(async (opts: PruneCmdOptions) => {
    app.exitCode = await runPrune(opts, begin(app, opts));
  });
}

async function runPrune(opts: PruneCmdOptions, ctx: CommandEnv): Promise<number> {
  const { out, signal } = ctx;
  return withRepository(opts, ctx, {}, async ({ repo }) => {
    const progress = out.progress();
    progress.update({ label: 'finding the data snapshots need' });
    let r: PruneResult;
    try {
      r = await prune(repo, { dryRun: opts.dryRun === true, actor: 'cli', signal });
    } finally {
      out.stopProgress();
    }
    if (out.json) out.jsonResult(r);
    else printPrune(out, r);
    return EXIT.OK;
  });
}

function printPrune(out: Output, r: PruneResult): void {
  const would = r.dryRun ? 'would be ' : '';
  out.line(
    `${plural(r.snapshots, 'live snapshot')}; ${plural(r.packs, 'pack')} (${humanBytes(r.bytes)}), ` +
      `${r.referencedPacks} of them in use`,
  );
  out.line(`marked:   ${plural(r.marked.length, 'unused pack')} ${would}marked (deleted by a later prune)`);
  if (r.unmarked.length > 0) out.line(`unmarked: ${plural(r.unmarked.length, 'pack')} in use again`);
  if (r.repacked.length > 0) {
    const blobs = r.repacked.reduce((n, x) => n + x.blobs, 0);
    out.line(
      `repacked: ${plural(r.repacked.length, 'partly used pack')} ${would}repacked (${plural(blobs, 'blob')} copied)`,
    );
  }
  out.line(
    `deleted:  ${plural(r.deleted.length, 'pack')} and ${plural(r.indexesDeleted.length, 'index object')} ${would}deleted, ` +
      `${humanBytes(r.bytesFreed)} ${r.dryRun ? 'to free' : 'freed'} (${plural(r.deleteCalls, 'delete request')})`,
  );
  if (r.waiting.length > 0) {
    const first = r.waiting.map((w) => w.deletableFrom).sort()[0];
    out.line(
      `waiting:  ${plural(r.waiting.length, 'marked pack')}, deletable by a prune from ${first ? localTime(first) : '-'}`,
    );
  }
  const what: Record<PruneLocked['why'], string> = {
    unreferenced: 'unused but still locked, kept (no delete sent)',
    repack: 'partly used, repacked once their lock ends',
    index: 'index objects listing deleted packs, replaced once their lock ends',
  };
  for (const why of ['unreferenced', 'repack', 'index'] as const) {
    const list = r.locked.filter((l) => l.why === why);
    if (list.length === 0) continue;
    out.line(`locked:   ${plural(list.length, 'object')} ${what[why]}:`);
    for (const l of list.slice(0, SHOWN)) {
      const until = l.held ? 'under legal hold' : l.until ? `locked until ${localTime(l.until)}` : 'locked';
      out.line(`  ${termSafe(l.object)}: ${until}`);
    }
    if (list.length > SHOWN) out.line(`  ... and ${list.length - SHOWN} more (--json lists them)`);
  }
  if (r.dryRun) out.note('note: dry run: nothing was changed');
}
