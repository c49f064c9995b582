import { lstatSync, realpathSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { isInside } from '../../engine/backup/filter.ts';
import { backup, backupListings, defaultSource } from '../../engine/backup/backup.ts';
import { ScanAhead } from '../../engine/backup/stages/scan-ahead.ts';
import { BulwarkError, isBulwarkError } from '../../engine/errors.ts';
import { localPaths } from '../../engine/paths.ts';
import type { SnapshotManifest } from '../../engine/repo/format.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { humanBytes, humanDuration, localTime, plural, termSafe } from '../format.ts';
import { fileError } from '../fs-errors.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import type { Output } from '../output.ts';
import { collect } from '../parse.ts';
import { isS3, resolveTarget, withRepository, type CommandEnv, type RepoTarget } from '../repo-open.ts';

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
  const { env } = ctx;
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
  // Bulwark's own state is never backed up (it would grow by itself on every run); checked before any
  // repository is touched. A catalog not given with --catalog is in the data folder.
  const own = ownPaths(paths, ownState(env, resolveTarget(opts, env), opts.catalog));
  // The walk starts now and runs while the repository is unlocked (the key derivation takes ~0.25 s).
  const scanAhead = ScanAhead.start(paths, { skipPaths: own.skipPaths });
  try {
    return await backupInto(paths, opts, ctx, { source, own, scanAhead });
  } finally {
    await scanAhead.cancel(); // nothing to stop once the backup took the scanner over
  }
}

async function backupInto(
  paths: string[],
  opts: BackupCmdOptions,
  ctx: CommandEnv,
  run: { source: string; own: ReturnType<typeof ownPaths>; scanAhead: ScanAhead },
): Promise<number> {
  const { out, signal, env } = ctx;
  const { source, own, scanAhead } = run;
  return withRepository(
    opts,
    ctx,
    {
      autoInit: true,
      sync: false,
      // the run's listings and the server's clock (new objects' locks, the snapshot's time)
      prefetch: (config) => ({ listings: backupListings(config), serverTime: true }),
    },
    async ({ repo, catalog, target, created }) => {
      if (target.isDefault && !created)
        out.note(`bulwark: using the default repository in ${termSafe(target.location)}`);
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
          skipPaths: own.skipPaths,
          scanAhead,
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
      printSummary(out, manifest, prot, own.skipped);
      for (const w of repo.warnings) out.warn(`bulwark: warning: ${termSafe(w)}`);
      return s.errorCount > 0 ? EXIT.FAILURE : EXIT.OK;
    },
  );
}

/** One of Bulwark's own folders or files (its state, which a backup must never take in). */
interface OwnPath {
  /** what it is, for the report: "data folder", "repository", "catalog" */
  label: string;
  path: string;
}

/** Bulwark's own state on this computer: its folders, a folder repository, the catalog (and its WAL/SHM). */
function ownState(env: NodeJS.ProcessEnv, target: RepoTarget, catalogFile: string | undefined): OwnPath[] {
  const local = localPaths(env);
  const own: OwnPath[] = [
    { label: 'data folder', path: local.dataDir },
    { label: 'config folder', path: local.configDir },
    { label: 'cache folder', path: local.cacheDir },
  ];
  // a folder repository (path or file:// URL); other schemes are no folder here
  const loc = target.location;
  if (loc.startsWith('file://')) own.push({ label: 'repository', path: fileURLToPath(loc) });
  else if (!isS3(loc) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(loc)) own.push({ label: 'repository', path: loc });
  if (catalogFile !== undefined) {
    for (const suffix of ['', '-wal', '-shm', '-journal'])
      own.push({ label: 'catalog', path: `${catalogFile}${suffix}` });
  }
  return own;
}

/** The real path (symlinks resolved) of `p`, or of its nearest existing parent with the rest appended. */
function realPath(p: string): string {
  const abs = resolve(p);
  try {
    return realpathSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fileError(e, abs);
    // not there (yet): resolve what exists of it
    const parent = resolve(abs, '..');
    return parent === abs ? abs : join(realPath(parent), relative(parent, abs));
  }
}

/**
 * Which of Bulwark's own paths lie inside the backed-up paths: passed to the scanner as skipped paths
 * (named as the scanner will meet them, under each backed-up path as given, whatever symlinks lead there),
 * and listed for the report. A backed-up path that is itself inside Bulwark's own state is refused.
 */
function ownPaths(paths: string[], own: OwnPath[]): { skipPaths: string[]; skipped: OwnPath[] } {
  const skipPaths = new Set<string>();
  const skipped: OwnPath[] = [];
  for (const o of own) {
    const real = realPath(o.path);
    for (const p of paths) {
      const root = resolve(p);
      const realRoot = realPath(root);
      if (isInside(real, realRoot)) {
        throw new BulwarkError(
          'INVALID_ARGUMENT',
          `${root} is inside Bulwark's own ${o.label} (${o.path}): it is never backed up`,
          { hint: 'Back up your own files and folders; Bulwark leaves out its own state.' },
        );
      }
      if (!isInside(realRoot, real)) continue;
      const inScan = join(root, relative(realRoot, real));
      skipPaths.add(inScan);
      skipPaths.add(resolve(o.path));
      if (!skipped.some((x) => x.path === inScan)) skipped.push({ label: o.label, path: inScan });
    }
  }
  // The report names the outermost ones (the default repository and catalogs are in the data folder).
  const outer = skipped.filter((x) => !skipped.some((y) => y.path !== x.path && isInside(y.path, x.path)));
  return { skipPaths: [...skipPaths], skipped: outer };
}

export function printSummary(
  out: Output,
  m: SnapshotManifest,
  protectedUntil: number | null,
  skipped: readonly OwnPath[] = [],
): void {
  const s = m.stats;
  out.note(
    `snapshot ${m.id.slice(0, 8)} saved in ${humanDuration(s.durationMs)} (source ${termSafe(m.source)})`,
  );
  out.note(
    `  files:  ${s.files} (${s.filesNew} new, ${s.filesChanged} changed, ${s.filesUnchanged} unchanged) ` +
      `in ${plural(s.dirs, 'folder')}, ${humanBytes(s.bytes)}`,
  );
  if (skipped.length > 0) {
    const list = skipped.map((x) => `${x.label} ${termSafe(x.path)}`).join(', ');
    out.note(`  skipped: Bulwark's own ${list}`);
  }
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
  for (const e of s.errors.slice(0, SHOWN_ERRORS)) out.warn(`  ${termSafe(e.path)}: ${termSafe(e.message)}`);
  if (s.errorCount > SHOWN_ERRORS) {
    out.warn(
      `  ... and ${s.errorCount - SHOWN_ERRORS} more (bulwark backup --json, or bulwark snapshots --json, lists them)`,
    );
  }
}
