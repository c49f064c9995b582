import type { Command } from 'commander';
import { BulwarkError } from '../../engine/errors.ts';
import { fileVersions, type FileVersionInfo } from '../../engine/history/query.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { humanBytes, localTime, plural, table, termSafe, type Align } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import { collect } from '../parse.ts';
import type { Output } from '../output.ts';
import { withRepository, type CommandEnv } from '../repo-open.ts';

export interface HistoryCmdOptions extends CommonOptions {
  source?: string[];
}

export function registerVersions(program: Command, app: App): void {
  const cmd = program
    .command('versions')
    .description('every distinct version of one file across all snapshots, oldest first')
    .argument(
      '<path>',
      'the file as `restore SNAPSHOT:PATH` takes it (relative to the snapshot), or where it was on disk',
    )
    .option('--source <source>', 'only this source (as `snapshots` shows it; repeatable)', collect);
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.addHelpText(
    'after',
    '\nEach version names the newest snapshot that holds it: `bulwark restore SNAPSHOT:PATH -t DIR` restores it.',
  );
  cmd.action(async (path: string, opts: HistoryCmdOptions) => {
    app.exitCode = await runVersions(path, opts, begin(app, opts));
  });
}

/** One version as --json prints it (find and versions): `snapshot` and `path` are what restore takes. */
export function versionJson(v: FileVersionInfo): Record<string, unknown> {
  return {
    snapshot: v.snapshotId,
    time: v.time,
    path: v.path,
    originalPath: v.originalPath,
    source: v.source,
    size: v.size,
    mtime: v.mtime,
    firstSnapshot: v.firstSnapshotId,
    firstSeen: v.firstSeen,
    ...(v.lastSeen !== undefined ? { lastSeen: v.lastSeen } : {}),
    ...(v.endedBy !== undefined ? { endedBy: v.endedBy } : {}),
    content: v.contentId,
  };
}

/** The one line said before the index of a repository is built, at its first find or versions (history/sync.ts). */
export const buildNote =
  (out: Output) =>
  (snapshots: number): void =>
    out.note(
      `bulwark: building the file history of this repository from ${plural(snapshots, 'snapshot')} ` +
        '(once; after this, only the backups made since are added)',
    );

async function runVersions(path: string, opts: HistoryCmdOptions, ctx: CommandEnv): Promise<number> {
  const { out, signal } = ctx;
  return withRepository(opts, ctx, {}, async ({ repo }) => {
    const versions = await fileVersions(repo, path, {
      signal,
      onBuild: buildNote(out),
      ...(opts.source?.length ? { sources: opts.source } : {}),
    });
    if (versions.length === 0) {
      throw new BulwarkError('NOT_FOUND', `${path}: no file by that path in any snapshot`, {
        hint: 'Give the path as `bulwark ls SNAPSHOT` shows it (folders have no versions), or search with `bulwark find`.',
      });
    }
    if (out.json) {
      out.jsonResult(versions.map(versionJson));
      return EXIT.OK;
    }
    const sources = new Set(versions.map((v) => v.source));
    const rows = versions.map((v) => [
      localTime(v.firstSeen),
      v.lastSeen !== undefined ? localTime(v.lastSeen) : 'now',
      v.endedBy ?? '',
      humanBytes(v.size),
      localTime(v.mtime),
      v.snapshotId.slice(0, 8),
      termSafe(sources.size > 1 ? `${v.source}: ${v.path}` : v.path),
    ]);
    const header = ['FIRST SEEN', 'LAST SEEN', 'THEN', 'SIZE', 'MODIFIED', 'SNAPSHOT', 'PATH'];
    const align: Align[] = ['left', 'left', 'left', 'right', 'left', 'left', 'left'];
    for (const l of table(header, rows, align)) out.line(l);
    out.note(
      `${plural(versions.length, 'version')}; restore one with \`bulwark restore SNAPSHOT:PATH -t DIR\``,
    );
    return EXIT.OK;
  });
}
