import { resolve } from 'node:path';
import type { Command } from 'commander';
import { BulwarkError, restoreSnapshot, type RestoreResult } from '../../engine/index.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { humanBytes, plural, termSafe } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import { splitSnapshotRef } from '../parse.ts';
import type { Output } from '../output.ts';
import { withRepository, type CommandEnv } from '../repo-open.ts';

interface RestoreCmdOptions extends CommonOptions {
  target: string;
}

export function registerRestore(program: Command, app: App): void {
  const cmd = program
    .command('restore')
    .description('restore a snapshot, or one file or folder of it, into a folder')
    .argument('<snapshot[:path]>', 'snapshot id, unique prefix or "latest", optionally :path inside it')
    .requiredOption('-t, --target <dir>', 'folder to restore into (created if missing)');
  repoOptions(cmd);
  outputOptions(cmd);
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
  const target = resolve(opts.target);
  return withRepository(opts, ctx, {}, async ({ repo }) => {
    const progress = out.progress();
    let result: RestoreResult;
    try {
      result = await restoreSnapshot(repo, {
        snapshot,
        subPath: path,
        target,
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
    else printRestore(out, result, path, target);
    if (result.errors.length > 0) {
      out.warn(
        `bulwark: the restore is incomplete: ${plural(result.errors.length, 'entry', 'entries')} skipped`,
      );
      // the disk filled up: what did not fit, and how much room it needs
      if (result.noSpace) out.warn(`bulwark: ${termSafe(result.noSpace.message)}`);
      return EXIT.FAILURE;
    }
    return EXIT.OK;
  });
}

/** The text report of a restore (names from the snapshot are escaped for the terminal). */
export function printRestore(out: Output, result: RestoreResult, path: string, target: string): void {
  const what = path ? `${termSafe(path)} from snapshot` : 'snapshot';
  out.line(
    `restored ${plural(result.files, 'file')} (${humanBytes(result.bytes)}) and ${plural(result.dirs, 'folder')} ` +
      `of ${what} ${result.snapshotId.slice(0, 8)} into ${termSafe(target)}`,
  );
  if (result.warnings.length > 0) {
    out.line(`${plural(result.warnings.length, 'entry', 'entries')} restored differently from the snapshot:`);
    for (const w of result.warnings) out.line(`  ${termSafe(w.path)}: ${termSafe(w.message)}`);
  }
  if (result.errors.length > 0) {
    out.line(`${plural(result.errors.length, 'entry', 'entries')} skipped:`);
    for (const e of result.errors) out.line(`  ${termSafe(e.path)}: ${termSafe(e.message)}`);
  }
}
