import type { Command } from 'commander';
import { Catalog } from '../../engine/catalog/catalog.ts';
import { BulwarkError } from '../../engine/errors.ts';
import { rebuildCatalog } from '../../engine/ops/rebuild.ts';
import type { RebuildResult } from '../../engine/ops/types.ts';
import { Repository } from '../../engine/repo/repository.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { plural, termSafe } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import {
  catalogPath,
  locateRepository,
  moveCatalogAside,
  openCatalog,
  repositoryPassword,
  unlockRepository,
  type CommandEnv,
  type Located,
} from '../repo-open.ts';

interface RepairOptions extends CommonOptions {
  rebuildCatalog?: boolean;
}

export function registerRepair(program: Command, app: App): void {
  const cmd = program
    .command('repair')
    .description('repair local state')
    .option('--rebuild-catalog', 'rebuild the local catalog (a cache) from the repository and the password');
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.action(async (opts: RepairOptions) => {
    app.exitCode = await runRepair(opts, begin(app, opts));
  });
}

/** Opens the catalog if it is sound; otherwise says why (the caller moves it aside and reports that). */
function trySoundCatalog(path: string): { catalog: Catalog } | { why: string } {
  let catalog: Catalog | undefined;
  let why: string;
  try {
    catalog = Catalog.open(path);
    const check = catalog.db.pragma('quick_check', { simple: true });
    if (check === 'ok') return { catalog };
    why = `integrity check: ${String(check)}`;
  } catch (e) {
    why = e instanceof Error ? e.message : String(e); // damaged, or not a database
  }
  try {
    catalog?.close();
  } catch (e) {
    why += `; closing it failed too: ${e instanceof Error ? e.message : String(e)}`;
  }
  return { why };
}

/** Checks the password before anything local is changed (with a throwaway in-memory catalog). */
async function checkPassword(loc: Located, opts: RepairOptions, ctx: CommandEnv): Promise<void> {
  const scratch = Catalog.open(':memory:');
  try {
    await Repository.open(loc.store, await repositoryPassword(loc.target, opts, ctx.env), scratch);
  } finally {
    scratch.close();
  }
}

async function runRepair(opts: RepairOptions, ctx: CommandEnv): Promise<number> {
  const { out, env, signal } = ctx;
  if (!opts.rebuildCatalog) {
    throw new BulwarkError('INVALID_ARGUMENT', 'nothing to repair: say what', {
      hint: 'Use `bulwark repair --rebuild-catalog`.',
    });
  }
  const loc = await locateRepository(opts, ctx);
  const path = catalogPath(opts, env, loc.config);
  const sound = trySoundCatalog(path);
  let catalog: Catalog;
  if ('catalog' in sound) catalog = sound.catalog;
  else {
    await checkPassword(loc, opts, ctx);
    const aside = moveCatalogAside(path, new Date().toISOString().replace(/[:.]/g, '-'));
    if (aside)
      out.note(
        `bulwark: the catalog was damaged (${termSafe(sound.why)}); moved it aside to ${termSafe(aside)}`,
      );
    catalog = openCatalog(path);
  }
  const opened = await unlockRepository(loc, opts, ctx, catalog);
  let result: RebuildResult;
  try {
    // rebuildCatalog forgets what the catalog held about this repository, then relearns it; it also
    // writes the audit entry ('rebuild-catalog').
    result = await rebuildCatalog(opened.repo, signal);
  } finally {
    await opened.close();
  }
  if (out.json) out.jsonResult(result);
  else {
    out.line(`rebuilt the catalog ${termSafe(path)}`);
    out.line(
      `  ${plural(result.snapshots, 'snapshot')}, ${plural(result.indexes, 'index object')}, ` +
        `${plural(result.packs, 'pack')} (${result.adoptedPacks} learned from pack trailers)`,
    );
    if (result.damaged.length > 0) {
      out.line(`could not read ${plural(result.damaged.length, 'object')} (everything else was rebuilt):`);
      for (const d of result.damaged) {
        const where =
          d.path !== undefined
            ? `${d.path || 'the top folder'} (snapshot ${(d.snapshot ?? '').slice(0, 8)}, ${d.object})`
            : d.object;
        out.line(`  ${termSafe(where)}: ${termSafe(d.message)}`);
      }
    }
  }
  // Damage does not stop the rebuild: the catalog is usable, but what could not be read is said and the
  // exit status is 1 (as verify's for problems found).
  if (result.damaged.length > 0) {
    out.warn(
      `bulwark: the catalog was rebuilt, but ${plural(result.damaged.length, 'object')} of the repository could not be read`,
    );
    out.warn(
      '  hint: the catalog is usable. Run `bulwark verify` to see which files are affected; a new backup stores them again.',
    );
    return EXIT.FAILURE;
  }
  return EXIT.OK;
}
