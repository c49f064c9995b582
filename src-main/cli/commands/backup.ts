import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  backup,
  defaultSource,
  isBulwarkError,
  localPaths,
  type SnapshotManifest,
} from '../../engine/index.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { humanBytes, humanDuration, localTime, plural } from '../format.ts';
import { fileError } from '../fs-errors.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import type { Output } from '../output.ts';
import { collect } from '../parse.ts';
import { withRepository, type CommandEnv } from '../repo-open.ts';

interface BackupCmdOptions extends CommonOptions {
  source?: string;
  tag?: string[];
}

/** How many unreadable entries the summary names (the manifest lists up to 1000). */
const SHOWN_ERRORS = 5;

export function registerBackup(program: Command, app: App): void {
  const cmd = program
    .command('backup')
    .description('back up files and folders as a new snapshot; prints the snapshot id on stdout')
    .argument('<paths...>', 'files and folders to back up')
    .option('--source <name>', 'name of this backup source (default: host and paths)')
    .option('--tag <tag>', 'tag the snapshot (repeatable)', collect);
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.action(async (paths: string[], opts: BackupCmdOptions) => {
    app.exitCode = await runBackup(paths, opts, begin(app, opts));
  });
}

async function runBackup(paths: string[], opts: BackupCmdOptions, ctx: CommandEnv): Promise<number> {
  const { out, signal, env } = ctx;
  // Check the paths before touching (or creating) any repository.
  for (const p of paths) {
    try {
      lstatSync(p);
    } catch (e) {
      throw fileError(e, p, 'Check the path; nothing was backed up.');
    }
  }
  // The same default the engine uses; passed explicitly so the run record and the snapshot agree.
  const source = opts.source ?? defaultSource(paths);

  return withRepository(
    opts,
    ctx,
    { autoInit: true, sync: false },
    async ({ repo, catalog, target, created }) => {
      if (target.isDefault && !created)
        out.note(`bulwark: using the default repository in ${target.location}`);
      const runId = catalog.startRun('backup', repo.rid, source);
      const progress = out.progress();
      let manifest: SnapshotManifest;
      try {
        manifest = await backup(repo, {
          paths,
          source,
          tags: opts.tag ?? [],
          signal,
          actor: 'cli',
          tmpDir: join(localPaths(env).cacheDir, 'packs'),
          onProgress: (p) =>
            progress.update({
              label: p.phase === 'scanning' ? (p.scanDone ? 'reading' : 'scanning') : p.phase,
              bytesDone: p.bytesDone,
              bytesTotal: p.bytesTotal,
              filesDone: p.filesDone,
              filesTotal: p.filesTotal,
              totalKnown: p.scanDone,
              ...(p.currentPath !== undefined ? { currentPath: p.currentPath } : {}),
            }),
        });
      } catch (e) {
        out.stopProgress();
        const canceled = isBulwarkError(e, 'CANCELED');
        const error = e instanceof Error ? e.message : String(e);
        // the engine wrote the audit entry
        catalog.finishRun(runId, canceled ? 'canceled' : 'failed', { error });
        throw e;
      }
      out.stopProgress();
      const s = manifest.stats;
      catalog.finishRun(runId, 'succeeded', { snapshotId: manifest.id, stats: s });

      if (out.json) out.jsonResult(manifest);
      else out.line(manifest.id);
      const prot = catalog.snapshotProtection(repo.rid).get(manifest.id)?.protectedUntil ?? null;
      printSummary(out, manifest, prot);
      return s.errorCount > 0 ? EXIT.FAILURE : EXIT.OK;
    },
  );
}

function printSummary(out: Output, m: SnapshotManifest, protectedUntil: number | null): void {
  const s = m.stats;
  out.note(`snapshot ${m.id.slice(0, 8)} saved in ${humanDuration(s.durationMs)} (source ${m.source})`);
  out.note(
    `  files:  ${s.files} (${s.filesNew} new, ${s.filesChanged} changed, ${s.filesUnchanged} unchanged) ` +
      `in ${plural(s.dirs, 'folder')}, ${humanBytes(s.bytes)}`,
  );
  out.note(`  read:   ${humanBytes(s.bytesRead)}`);
  out.note(`  added:  ${humanBytes(s.bytesAdded)} to the repository (${plural(s.blobsAdded, 'new blob')})`);
  if (s.lockExtensions !== undefined) {
    // A repository with a lock policy: how many existing objects had to be locked for longer.
    const until =
      protectedUntil === null ? '' : `; protected until ${localTime(new Date(protectedUntil).toISOString())}`;
    out.note(`  locks:  ${s.lockExtensions} extended${until}`);
  }
  if (s.errorCount === 0) {
    out.note('  errors: none');
    return;
  }
  // Always shown (even with --quiet): these files are not in the snapshot, or are flagged.
  out.warn(`bulwark: ${plural(s.errorCount, 'entry', 'entries')} could not be backed up as they are:`);
  for (const e of s.errors.slice(0, SHOWN_ERRORS)) out.warn(`  ${e.path}: ${e.message}`);
  if (s.errorCount > SHOWN_ERRORS) {
    out.warn(
      `  ... and ${s.errorCount - SHOWN_ERRORS} more (bulwark backup --json, or bulwark snapshots --json, lists them)`,
    );
  }
}
