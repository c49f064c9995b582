import type { Command } from 'commander';
import { findFiles } from '../../engine/history/query.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { humanBytes, localTime, plural, table, termSafe, type Align } from '../format.ts';
import { outputOptions, repoOptions } from '../options.ts';
import { collect, positiveInt } from '../parse.ts';
import { withRepository, type CommandEnv } from '../repo-open.ts';
import { buildNote, versionJson, type HistoryCmdOptions } from './versions.ts';

interface FindCmdOptions extends HistoryCmdOptions {
  limit: number;
}

const DEFAULT_LIMIT = 1000;

export function registerFind(program: Command, app: App): void {
  const cmd = program
    .command('find')
    .description('find files by name across all snapshots (deleted ones too), with their versions')
    .argument(
      '<pattern>',
      'text the path contains (any case), or a glob with * ? [..] matched against the name (against the end of the path when it has a /)',
    )
    .option('--source <source>', 'only this source (as `snapshots` shows it; repeatable)', collect)
    .option('--limit <n>', `at most N files (default ${DEFAULT_LIMIT})`, positiveInt, DEFAULT_LIMIT);
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.addHelpText(
    'after',
    '\nExamples:\n  bulwark find invoice          paths containing "invoice", "Invoice", "INVOICE"…\n' +
      "  bulwark find '*.xlsx'         every spreadsheet\n" +
      "  bulwark find 'Invoices/**.pdf' PDFs anywhere below a folder named Invoices",
  );
  cmd.action(async (pattern: string, opts: FindCmdOptions) => {
    app.exitCode = await runFind(pattern, opts, begin(app, opts));
  });
}

async function runFind(pattern: string, opts: FindCmdOptions, ctx: CommandEnv): Promise<number> {
  const { out, signal } = ctx;
  return withRepository(opts, ctx, {}, async ({ repo }) => {
    const { files, truncated } = await findFiles(repo, pattern, {
      signal,
      limit: opts.limit,
      onBuild: buildNote(out),
      ...(opts.source?.length ? { sources: opts.source } : {}),
    });
    const more = (): void => {
      if (truncated)
        out.warn(
          `bulwark: more files match; showing the first ${opts.limit} (raise --limit or narrow the pattern)`,
        );
    };
    if (out.json) {
      out.jsonResult(
        files.map((f) => ({
          path: f.path,
          originalPath: f.originalPath,
          source: f.source,
          deleted: f.deleted,
          versions: f.versions.map(versionJson),
        })),
      );
      more();
      return EXIT.OK;
    }
    if (files.length === 0) {
      out.line(`no file matches ${termSafe(pattern)}`);
      return EXIT.OK;
    }
    const sources = new Set(files.map((f) => f.source));
    const rows = files.map((f) => {
      const newest = f.versions[0]!;
      return [
        String(f.versions.length),
        localTime(newest.time),
        humanBytes(newest.size),
        newest.snapshotId.slice(0, 8),
        termSafe(`${sources.size > 1 ? `${f.source}: ` : ''}${f.path}${f.deleted ? '  (deleted)' : ''}`),
      ];
    });
    const align: Align[] = ['right', 'left', 'right', 'left', 'left'];
    for (const l of table(['VERSIONS', 'LAST SEEN', 'SIZE', 'SNAPSHOT', 'PATH'], rows, align)) out.line(l);
    out.note(`${plural(files.length, 'file')}; \`bulwark versions PATH\` lists the versions of one`);
    more();
    return EXIT.OK;
  });
}
