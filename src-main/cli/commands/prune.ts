import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Catalog } from '../../engine/catalog/catalog.ts';
import { BulwarkError } from '../../engine/errors.ts';
import { localPaths } from '../../engine/paths.ts';
import { prunePausedReason, setPrunePaused } from '../../engine/retention/marks.ts';
import { prune, type PruneLocked, type PruneResult } from '../../engine/retention/prune.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { humanBytes, localTime, plural, termSafe } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import type { Output } from '../output.ts';
import { withRepository, type CommandEnv } from '../repo-open.ts';

interface PruneCmdOptions extends CommonOptions {
  dryRun?: boolean;
  /** true (no reason given) or the reason */
  pause?: string | boolean;
  resume?: boolean;
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
    .option('--dry-run', 'only show what would be marked, repacked and deleted')
    .option(
      '--pause [reason]',
      'pause prune (an incident, an investigation): nothing is deleted by prune, here or by the backup ' +
        'service on this computer, until --resume',
    )
    .option('--resume', 'resume prune after --pause (here and in the backup service on this computer)');
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.action(async (opts: PruneCmdOptions) => {
    app.exitCode = await runPrune(opts, begin(app, opts));
  });
}

async function runPrune(opts: PruneCmdOptions, ctx: CommandEnv): Promise<number> {
  const { out, signal } = ctx;
  if (opts.pause !== undefined || opts.resume === true) return pauseOrResume(opts, ctx);
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

/**
 * --pause / --resume: the engine's prune.paused flag, in this repository's catalog and in the backup
 * service's (service.db in the data folder, when the service was ever run here), since both prune from
 * this computer. The service shows the pause and its reason on its Snapshots page.
 */
async function pauseOrResume(opts: PruneCmdOptions, ctx: CommandEnv): Promise<number> {
  const { out, env } = ctx;
  if (opts.pause !== undefined && opts.resume === true)
    throw new BulwarkError('INVALID_ARGUMENT', '--pause and --resume cannot be used together', {
      hint: 'Use `bulwark prune --pause` to pause and `bulwark prune --resume` to resume.',
    });
  const reason =
    opts.resume === true
      ? null
      : typeof opts.pause === 'string' && opts.pause.trim() !== ''
        ? opts.pause.trim()
        : 'paused from the command line';
  const now = new Date();
  return withRepository(opts, ctx, {}, async ({ repo }) => {
    setPrunePaused(repo.catalog, reason, now);
    const serviceDb = join(localPaths(env).dataDir, 'service.db');
    let service = false;
    if (existsSync(serviceDb)) {
      const catalog = Catalog.open(serviceDb);
      try {
        setPrunePaused(catalog, reason, now);
        service = true;
      } finally {
        catalog.close();
      }
    }
    const still = prunePausedReason(repo.catalog);
    if (out.json) out.jsonResult({ paused: still !== undefined, reason: still ?? null, service });
    else if (reason === null)
      out.line(
        still === undefined
          ? `prune resumed${service ? ' (here and in the backup service)' : ''}`
          : `prune stays paused: ${termSafe(still)}`,
      );
    else out.line(`prune paused${service ? ' (here and in the backup service)' : ''}: ${termSafe(reason)}`);
    return EXIT.OK;
  });
}
