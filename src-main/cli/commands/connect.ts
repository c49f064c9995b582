import type { Command } from 'commander';
import { BulwarkError } from '../../engine/errors.ts';
import { rebuildCatalog } from '../../engine/ops/rebuild.ts';
import type { RebuildResult } from '../../engine/ops/types.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { humanBytes, localTime, plural, table, termSafe, type Align } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import {
  catalogPath,
  locateRepository,
  openCatalog,
  repairCommand,
  unlockRepository,
  type CommandEnv,
} from '../repo-open.ts';
import { describeSource } from './snapshots.ts';

/**
 * Disaster recovery on a new computer: with only the repository's location and its password, the local
 * catalog is rebuilt from the repository (DESIGN §2: it is a cache) and the snapshots are listed; every
 * other command (restore, find, versions, drill) then works as on the old computer.
 */
export function registerConnect(program: Command, app: App): void {
  const cmd = program
    .command('connect')
    .description(
      'use an existing repository on this computer (a new or reinstalled one): checks the password, rebuilds ' +
        'the local catalog from the repository and lists its snapshots',
    );
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.action(async (opts: CommonOptions) => {
    app.exitCode = await runConnect(opts, begin(app, opts));
  });
}

async function runConnect(opts: CommonOptions, ctx: CommandEnv): Promise<number> {
  const { out, signal } = ctx;
  if (opts.repo === undefined && ctx.env.BULWARK_REPOSITORY === undefined)
    throw new BulwarkError('INVALID_ARGUMENT', 'say which repository to connect to', {
      hint: 'Give it with --repo: a folder (e.g. /mnt/nas/backups) or s3://bucket/prefix (with --endpoint for a NAS or MinIO).',
    });
  // never creates anything: a mistyped folder says "no repository there", not "created"
  const loc = await locateRepository(opts, ctx);
  const path = catalogPath(opts, ctx.env, loc.config);
  const opened = await unlockRepository(
    loc,
    opts,
    ctx,
    openCatalog(path, { repair: repairCommand(opts, loc.target) }),
  );
  let result: RebuildResult;
  let snapshots;
  try {
    out.note(`bulwark: reading the repository ${termSafe(loc.target.location)} to rebuild the catalog…`);
    result = await rebuildCatalog(opened.repo, signal);
    snapshots = opened.repo.catalog.snapshots(opened.repo.rid);
  } finally {
    await opened.close();
  }
  if (out.json) {
    out.jsonResult({
      repository: { id: loc.config.id, location: loc.target.location },
      catalog: path,
      rebuilt: result,
      snapshots,
    });
  } else {
    out.line(`connected to ${termSafe(loc.target.location)} (repository ${loc.config.id.slice(0, 8)})`);
    out.line(`  catalog rebuilt in ${termSafe(path)}: ${plural(result.snapshots, 'snapshot')}`);
    if (snapshots.length > 0) {
      const rows = snapshots.map((m) => [
        m.id.slice(0, 8),
        localTime(m.time),
        termSafe(m.host),
        String(m.stats.files),
        humanBytes(m.stats.bytes),
        termSafe(describeSource(m)),
      ]);
      const align: Align[] = ['left', 'left', 'left', 'right', 'right', 'left'];
      for (const l of table(['ID', 'TIME', 'HOST', 'FILES', 'SIZE', 'SOURCE'], rows, align)) out.line(l);
      out.line(
        `restore with: bulwark restore --repo ${termSafe(loc.target.location)} ${snapshots.at(-1)!.id.slice(0, 8)} --target FOLDER`,
      );
    } else out.line('the repository holds no snapshot yet');
    for (const d of result.damaged)
      out.line(`  could not read ${termSafe(d.object)}: ${termSafe(d.message)}`);
  }
  if (result.damaged.length > 0) {
    out.warn(
      `bulwark: ${plural(result.damaged.length, 'object')} of the repository could not be read; everything else is usable`,
    );
    out.warn('  hint: run `bulwark verify` to see which files are affected.');
    return EXIT.FAILURE;
  }
  return EXIT.OK;
}
