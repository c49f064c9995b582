import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import {
  drillOutcomeText,
  durationText,
  listDrills,
  rateText,
  renderDrillReportHtml,
  rtoText,
  runDrill,
  type DrillRecord,
} from '../../engine/drill/index.ts';
import { BulwarkError } from '../../engine/errors.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { humanBytes, localTime, table, termSafe } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import { positiveInt } from '../parse.ts';
import {
  catalogPath,
  locateRepository,
  openCatalog,
  repairCommand,
  withRepository,
  type CommandEnv,
} from '../repo-open.ts';

interface DrillCmdOptions extends CommonOptions {
  snapshot?: string;
  full?: boolean;
  rto?: number;
  report?: boolean;
  html?: string;
  limit?: number;
  scratch?: string;
}

export function registerDrill(program: Command, app: App): void {
  const cmd = program
    .command('drill')
    .description(
      'restore test: restore a sample of a snapshot (1 % of its files plus every file changed since the last ' +
        'drill, at least 50, at most 1 GiB; --full: everything) into a temporary folder, check every byte, ' +
        'measure the speed and estimate how long a full restore takes; --report: the history of drills',
    )
    .option('--snapshot <id>', 'snapshot to test: id, unique prefix or "latest" (default: latest)')
    .option('--full', 'restore every file of the snapshot, not a sample')
    .option(
      '--rto <minutes>',
      'the longest a full restore may take: the drill says whether the estimate fits',
      positiveInt,
    )
    .option('--scratch <dir>', 'make the temporary folder in DIR (default: the system temporary folder)')
    .option('--report', 'print the drill history (trend of the last drills) instead of running a drill')
    .option('--html <file>', 'with --report: write a printable HTML report to FILE')
    .option('--limit <n>', 'with --report: the last N drills (default 50)', positiveInt);
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.action(async (opts: DrillCmdOptions) => {
    const ctx = begin(app, opts);
    app.exitCode = opts.report ? await runReport(opts, ctx) : await runDrillCmd(opts, ctx);
  });
}

async function runDrillCmd(opts: DrillCmdOptions, ctx: CommandEnv): Promise<number> {
  const { out, signal } = ctx;
  if (opts.html !== undefined || opts.limit !== undefined)
    throw new BulwarkError('INVALID_ARGUMENT', '--html and --limit go with --report', {
      hint: 'Run `bulwark drill --report --html report.html` for the printable report.',
    });
  const rto = opts.rto;
  return withRepository(opts, ctx, {}, async ({ repo }) => {
    const progress = out.progress();
    let d: DrillRecord;
    try {
      d = await runDrill(repo, {
        ...(opts.snapshot !== undefined ? { snapshot: opts.snapshot } : {}),
        ...(opts.full ? { full: true } : {}),
        ...(rto !== undefined ? { rtoMinutes: rto } : {}),
        ...(opts.scratch !== undefined ? { scratchParent: opts.scratch } : {}),
        signal,
        actor: 'cli-drill',
        onProgress: (p) =>
          progress.update({
            label: 'restore test',
            bytesDone: p.bytesDone,
            bytesTotal: p.bytesTotal,
            filesDone: p.filesDone,
            filesTotal: p.filesTotal,
            ...(p.currentPath !== undefined ? { currentPath: p.currentPath } : {}),
          }),
      });
    } finally {
      out.stopProgress();
    }
    if (out.json) out.jsonResult(d);
    else printDrill(ctx, d);
    if (!d.passed) {
      out.warn(
        d.error !== null
          ? `bulwark: the restore test could not run: ${termSafe(d.error)}`
          : `bulwark: the restore test failed: ${d.failures.length} ${d.failures.length === 1 ? 'file' : 'files'} did not come back intact`,
      );
      if (d.error === null)
        out.warn(
          '  hint: run `bulwark verify --read-data` to see which objects are damaged; a new backup stores the files again.',
        );
      return EXIT.FAILURE;
    }
    if (d.rtoVerdict === 'exceeded') {
      out.warn(
        `bulwark: a full restore would take ${rtoText(d)}: keep a copy on faster or closer storage, or allow more time`,
      );
      return EXIT.FAILURE;
    }
    return EXIT.OK;
  });
}

function printDrill(ctx: CommandEnv, d: DrillRecord): void {
  const { out } = ctx;
  out.line(`restore test of snapshot ${(d.snapshotId ?? '-').slice(0, 8)} (${termSafe(d.sourceName)})`);
  out.line(`  ${termSafe(drillOutcomeText(d))}`);
  out.line(
    `  tested:        ${d.filesTested} of ${d.filesTotal} files, ${humanBytes(d.bytesTested)} of ${humanBytes(d.bytesTotal)}` +
      (d.changedFiles > 0 ? ` (${d.changedFiles} changed since the last drill)` : ''),
  );
  out.line(`  restore took:  ${durationText(d.restoreMs / 1000)} (${rateText(d.throughput)})`);
  out.line(`  full restore:  ${rtoText(d)}`);
  for (const f of d.failures) out.line(`  not intact: ${termSafe(f.path)}: ${termSafe(f.message)}`);
}

/** The history needs only the local catalog: no password (an auditor may run it). */
async function runReport(opts: DrillCmdOptions, ctx: CommandEnv): Promise<number> {
  const { out } = ctx;
  if (opts.full || opts.rto !== undefined || opts.snapshot !== undefined || opts.scratch !== undefined)
    throw new BulwarkError(
      'INVALID_ARGUMENT',
      '--report lists past drills: it takes only --html and --limit',
    );
  if (opts.html !== undefined && out.json)
    throw new BulwarkError('INVALID_ARGUMENT', 'choose --json or --html, not both');
  const limit = opts.limit ?? 50;
  const loc = await locateRepository(opts, ctx);
  let drills: DrillRecord[];
  try {
    const catalog = openCatalog(catalogPath(opts, ctx.env, loc.config), {
      repair: repairCommand(opts, loc.target),
    });
    try {
      drills = listDrills(catalog, { repositoryId: loc.config.id, limit });
    } finally {
      catalog.close();
    }
  } finally {
    await loc.store.close?.();
  }
  if (opts.html !== undefined) {
    writeFileSync(
      opts.html,
      renderDrillReportHtml({ drills, generatedAt: Date.now(), subtitle: hostname() }),
    );
    out.note(`bulwark: wrote the report of ${drills.length} drills to ${termSafe(opts.html)}`);
    return EXIT.OK;
  }
  if (out.json) {
    out.jsonResult(drills);
    return EXIT.OK;
  }
  if (drills.length === 0) {
    out.line('no restore test has been run on this repository from this computer yet (run `bulwark drill`)');
    return EXIT.OK;
  }
  const rows = drills.map((d) => [
    localTime(new Date(d.startedAt).toISOString()),
    (d.snapshotId ?? '-').slice(0, 8),
    d.mode,
    `${d.filesTested}/${d.filesTotal}`,
    d.passed ? 'passed' : d.error !== null ? 'could not run' : `FAILED (${d.failures.length})`,
    durationText(d.restoreMs / 1000),
    rateText(d.throughput),
    d.estimatedFullSeconds === null ? '-' : durationText(d.estimatedFullSeconds),
    d.rtoMinutes === null ? '-' : `${durationText(d.rtoMinutes * 60)} ${d.rtoVerdict}`,
  ]);
  for (const l of table(
    ['TESTED', 'SNAPSHOT', 'MODE', 'FILES', 'RESULT', 'TOOK', 'SPEED', 'FULL RESTORE', 'RTO'],
    rows,
  ))
    out.line(termSafe(l));
  return EXIT.OK;
}
