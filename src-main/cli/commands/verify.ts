import type { Command } from 'commander';
import { verifyRepository, type VerifyReport } from '../../engine/index.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { humanBytes, plural } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import type { Output } from '../output.ts';
import { withRepository, type CommandEnv } from '../repo-open.ts';

interface VerifyCmdOptions extends CommonOptions {
  readData?: boolean;
}

export function registerVerify(program: Command, app: App): void {
  const cmd = program
    .command('verify')
    .description('check the repository: snapshots, hash chain, trees, packs (with --read-data: every byte)')
    .option('--read-data', 'also read, decrypt and check every blob of every pack');
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.action(async (opts: VerifyCmdOptions) => {
    app.exitCode = await runVerify(opts, begin(app, opts));
  });
}

async function runVerify(opts: VerifyCmdOptions, ctx: CommandEnv): Promise<number> {
  const { out, signal } = ctx;
  const readData = opts.readData === true;
  // No sync on open: verify reads indexes and snapshots itself and reports damaged ones as problems.
  return withRepository(opts, ctx, { sync: false }, async ({ repo, catalog }) => {
    const progress = out.progress();
    let report: VerifyReport;
    try {
      report = await verifyRepository(repo, {
        readData,
        signal,
        onProgress: (p) =>
          progress.update({
            label: p.phase === 'structure' ? 'checking snapshots' : 'reading packs',
            done: p.done,
            total: p.total,
          }),
      });
    } finally {
      out.stopProgress();
    }
    catalog.audit('cli', 'verify', repo.config.id, {
      readData,
      ok: report.ok,
      problems: report.problems.length,
    });

    if (out.json) out.jsonResult(report);
    else printReport(out, report, readData);
    if (report.ok) return EXIT.OK;
    out.warn(`bulwark: verify found ${plural(report.problems.length, 'problem')}`);
    out.warn(
      '  hint: the files listed cannot be restored intact. Keep the repository as it is; ' +
        'run a new backup to store those files again.',
    );
    return EXIT.FAILURE;
  });
}

function printReport(out: Output, r: VerifyReport, readData: boolean): void {
  let checked = `checked ${plural(r.snapshots, 'snapshot')}, ${plural(r.trees, 'tree')}, ${plural(r.packs, 'pack')}`;
  if (readData) checked += `; read ${plural(r.blobsChecked, 'blob')} (${humanBytes(r.bytesChecked)})`;
  out.line(checked);
  if (r.ok) {
    out.line('no problems found');
    return;
  }
  r.problems.forEach((p, i) => {
    out.line(`problem ${i + 1}: ${p.kind}: ${p.object}`);
    out.line(`  ${p.message}`);
    if (p.affected?.length) {
      out.line(`  affected files (${p.affected.length}):`);
      for (const a of p.affected) out.line(`    ${a}`);
    }
  });
}
