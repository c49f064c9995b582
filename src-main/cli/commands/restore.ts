import { Option, type Command } from 'commander';
import { BulwarkError } from '../../engine/errors.ts';
import type { ConflictPolicy } from '../../engine/ops/restore-place.ts';
import type { Catalog } from '../../engine/catalog/catalog.ts';
import { planAhead, planStillHolds } from '../../engine/ops/restore-ahead.ts';
import {
  planItems,
  planRestore,
  type PlanItem,
  type RestorePlan,
  type RestorePlanOptions,
} from '../../engine/ops/restore-plan.ts';
import type { RepoConfig } from '../../engine/repo/format.ts';
import { runRestorePlan } from '../../engine/ops/restore.ts';
import type { RestoreResult } from '../../engine/ops/types.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { humanBytes, plural, termSafe } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import { splitSnapshotRef } from '../parse.ts';
import type { Output } from '../output.ts';
import { withRepository, type CommandEnv } from '../repo-open.ts';

interface RestoreCmdOptions extends CommonOptions {
  target?: string;
  inPlace?: boolean;
  onConflict?: ConflictPolicy;
  dryRun?: boolean;
}

const POLICIES: readonly ConflictPolicy[] = ['overwrite', 'keep-both', 'skip', 'if-newer'];

const RESTORE_HELP = `
Before anything is written, each file is compared with what is at its destination: nothing there (create),
the same content (identical: left alone), or other content (a conflict). With conflicts and no
--on-conflict, nothing is written: the conflicts are listed and the exit code is 1. --on-conflict:
  overwrite   replace the existing file
  keep-both   restore beside it as "NAME (restored YYYY-MM-DD HH.MM).EXT"
  skip        leave the existing file as it is
  if-newer    replace it only when the snapshot's version is newer (modification time)
A file that appears or changes at a destination while the restore runs is a conflict too.`;

export function registerRestore(program: Command, app: App): void {
  const cmd = program
    .command('restore')
    .description('restore a snapshot, or one file or folder of it, into a folder or where it was')
    .argument('<snapshot[:path]>', 'snapshot id, unique prefix or "latest", optionally :path inside it')
    .option('-t, --target <dir>', 'folder to restore into (created if missing)')
    .option('--in-place', 'restore to where the files were when they were backed up')
    .addOption(
      new Option('--on-conflict <policy>', 'what to do with files that exist with other content').choices(
        POLICIES,
      ),
    )
    .option('-n, --dry-run', 'show what the restore would do (create, identical, conflict) and stop');
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.addHelpText('after', RESTORE_HELP);
  cmd.action(async (ref: string, opts: RestoreCmdOptions) => {
    app.exitCode = await runRestore(ref, opts, begin(app, opts));
  });
}

async function runRestore(ref: string, opts: RestoreCmdOptions, ctx: CommandEnv): Promise<number> {
  const { out, signal } = ctx;
  const { snapshot, path } = splitSnapshotRef(ref);
  if (snapshot === '') {
    throw new BulwarkError('INVALID_ARGUMENT', `no snapshot in "${ref}"`, {
      hint: 'Write SNAPSHOT or SNAPSHOT:PATH, e.g. latest:Documents/report.odt',
    });
  }
  if ((opts.target === undefined) === (opts.inPlace !== true)) {
    throw new BulwarkError(
      'INVALID_ARGUMENT',
      'say where to restore: --target DIR or --in-place (one of them)',
      {
        hint: '--in-place puts the files back where they were when they were backed up.',
      },
    );
  }
  const planOptions: RestorePlanOptions = {
    snapshot,
    paths: [path],
    destination: opts.inPlace ? { kind: 'original' } : { kind: 'folder', path: opts.target ?? '' },
    // `--target DIR` has always put a folder's contents straight into DIR
    layout: 'contents',
    signal,
  };
  // planned from the catalog while the key is derived, and taken if it still holds (restore-ahead.ts)
  let ahead: Promise<RestorePlan | undefined> | undefined;
  const whileUnlocking = (catalog: Catalog, config: RepoConfig): void => {
    ahead = planAhead(catalog, config.id, planOptions);
  };
  return withRepository(opts, ctx, { whileUnlocking }, async ({ repo }) => {
    let early = await ahead;
    ahead = undefined;
    if (early !== undefined && !planStillHolds(early, repo.catalog.snapshots(repo.rid), snapshot))
      early = undefined; // let go before planning again: a plan of a million files is hundreds of MB
    const plan = early ?? (await planRestore(repo, planOptions));
    if (opts.dryRun) {
      if (out.json) out.jsonResult(planJson(plan));
      else printPlan(out, plan, planItems(plan));
      return EXIT.OK;
    }
    if (opts.onConflict === undefined && plan.totals.conflicts > 0) {
      const conflicts = planItems(plan).filter((i) => i.action === 'conflict');
      if (out.json) out.jsonResult({ restored: false, ...planJson(plan), items: conflicts });
      else {
        out.line(
          `${plural(conflicts.length, 'file')} already ${conflicts.length === 1 ? 'exists' : 'exist'} with other content:`,
        );
        for (const c of conflicts) out.line(`  ${termSafe(c.destination)}${existingText(c)}`);
      }
      out.warn(
        `bulwark: nothing was restored: choose what to do with ${conflicts.length === 1 ? 'it' : 'them'} with ` +
          '--on-conflict overwrite, keep-both, skip or if-newer (--dry-run shows the whole plan)',
      );
      return EXIT.FAILURE;
    }

    const progress = out.progress();
    let result: RestoreResult;
    try {
      result = await runRestorePlan(repo, plan, {
        ...(opts.onConflict ? { onConflict: opts.onConflict } : {}),
        signal,
        actor: 'cli',
        onProgress: (p) =>
          progress.update({
            label: 'restoring',
            bytesDone: p.bytesDone,
            bytesTotal: p.bytesTotal,
            filesDone: p.filesDone,
            filesTotal: p.filesTotal,
            ...(p.currentPath !== undefined ? { currentPath: p.currentPath } : {}),
          }),
      });
    } catch (e) {
      out.stopProgress(); // the engine wrote the audit entry
      throw e;
    }
    out.stopProgress();

    if (out.json) out.jsonResult(result);
    else printRestore(out, result, path, plan.destination);
    if (result.errors.length > 0) {
      out.warn(
        `bulwark: the restore is incomplete: ${plural(result.errors.length, 'entry', 'entries')} not restored`,
      );
      // the disk filled up: what did not fit, and how much room it needs
      if (result.noSpace) out.warn(`bulwark: ${termSafe(result.noSpace.message)}`);
      return EXIT.FAILURE;
    }
    return EXIT.OK;
  });
}

const nsIso = (ns: string): string => new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();

function existingText(i: PlanItem): string {
  if (!i.existing) return '';
  return ` (there: ${humanBytes(i.existing.size)}, modified ${nsIso(i.existing.mtimeNs)}; in the snapshot: ${humanBytes(i.size)}, modified ${nsIso(i.mtimeNs)})`;
}

/** The plan as --json prints it: the totals, every item, and what cannot be restored. */
function planJson(plan: RestorePlan): Record<string, unknown> {
  return {
    snapshotId: plan.snapshotId,
    destination: plan.destination,
    totals: plan.totals,
    items: planItems(plan).map((i) => ({ ...i, mtime: nsIso(i.mtimeNs) })),
    errors: plan.errors,
    warnings: plan.warnings,
  };
}

function printPlan(out: Output, plan: RestorePlan, items: PlanItem[]): void {
  const t = plan.totals;
  out.line(`restore plan: snapshot ${plan.snapshotId.slice(0, 8)} into ${termSafe(plan.destination)}`);
  for (const i of items)
    out.line(
      `  ${i.action.padEnd(9)} ${termSafe(i.destination)}${i.action === 'conflict' ? existingText(i) : ''}`,
    );
  out.line(
    `${plural(t.files, 'file')} (${humanBytes(t.bytes)}): ${t.create} to create, ${t.identical} identical ` +
      `(left as they are), ${plural(t.conflicts, 'conflict')}`,
  );
  for (const e of plan.errors) out.line(`  cannot be restored: ${termSafe(e.path)}: ${termSafe(e.message)}`);
}

/** The text report of a restore (names from the snapshot are escaped for the terminal). */
export function printRestore(out: Output, result: RestoreResult, path: string, target: string): void {
  const what = path ? `${termSafe(path)} from snapshot` : 'snapshot';
  const also: string[] = [];
  if (result.identical > 0) also.push(`${result.identical} identical left as they were`);
  if (result.skipped > 0) also.push(`${result.skipped} skipped (another version is there)`);
  if (result.keptBoth > 0) also.push(`${result.keptBoth} restored beside the existing file`);
  out.line(
    `restored ${plural(result.files, 'file')} (${humanBytes(result.bytes)})${result.links > 0 ? `, ${plural(result.links, 'link')}` : ''} and ${plural(result.dirs, 'folder')} ` +
      `of ${what} ${result.snapshotId.slice(0, 8)} into ${termSafe(target)}${also.length > 0 ? `; ${also.join(', ')}` : ''}`,
  );
  if (result.warnings.length > 0) {
    out.line(`${plural(result.warnings.length, 'entry', 'entries')} restored differently from the snapshot:`);
    for (const w of result.warnings) out.line(`  ${termSafe(w.path)}: ${termSafe(w.message)}`);
  }
  if (result.errors.length > 0) {
    out.line(`${plural(result.errors.length, 'entry', 'entries')} not restored:`);
    for (const e of result.errors) out.line(`  ${termSafe(e.path)}: ${termSafe(e.message)}`);
  }
}
