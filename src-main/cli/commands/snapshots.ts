import type { Command } from 'commander';
import type { SnapshotManifest } from '../../engine/repo/format.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { humanBytes, localTime, plural, table, termSafe, type Align } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import { withRepository, type CommandEnv } from '../repo-open.ts';

export function registerSnapshots(program: Command, app: App): void {
  const cmd = program.command('snapshots').description('list the snapshots of the repository, oldest first');
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.action(async (opts: CommonOptions) => {
    app.exitCode = await runSnapshots(opts, begin(app, opts));
  });
}

const objectName = (id: string): string => `snapshots/${termSafe(id)}`;

/** "name (paths)" for a named source, just the paths for the default source (host:paths). */
export function describeSource(m: SnapshotManifest): string {
  const paths = m.paths.join(', ');
  return m.source === `${m.host}:${m.paths.join('|')}` ? paths : `${m.source} (${paths})`;
}

/** "2026-02-13 14:05:09", "- held", "-": the server-reported lock of a snapshot's objects, if known. */
function protectedCell(p: { protectedUntil: string | null; held: boolean }): string {
  const until = p.protectedUntil === null ? '-' : localTime(p.protectedUntil);
  return p.held ? `${until} held` : until;
}

async function runSnapshots(opts: CommonOptions, ctx: CommandEnv): Promise<number> {
  const { out } = ctx;
  return withRepository(opts, ctx, {}, async ({ repo }) => {
    const snaps = repo.catalog.snapshots(repo.rid);
    // What the last backup or `verify --locks` learned from the server (not asked again here).
    const protection = repo.catalog.snapshotProtection(repo.rid);
    const prot = (id: string): { protectedUntil: string | null; held: boolean } => {
      const p = protection.get(id);
      return {
        protectedUntil:
          typeof p?.protectedUntil === 'number' ? new Date(p.protectedUntil).toISOString() : null,
        held: p?.held === true,
      };
    };
    // A snapshot object that does not decrypt cannot be listed: the list is incomplete, which is said on
    // stderr (also with --json, whose array keeps its shape) and in the exit status.
    const damaged = [...repo.damagedSnapshots].sort();
    const warnDamaged = (): number => {
      if (damaged.length === 0) return EXIT.OK;
      out.warn(
        `bulwark: ${plural(damaged.length, 'snapshot object')} could not be read (damaged, altered or foreign) ` +
          `and ${damaged.length === 1 ? 'is' : 'are'} not listed: ${damaged.map((id) => objectName(id)).join(', ')}`,
      );
      out.warn(
        '  hint: run `bulwark verify` to see what is damaged; keep the repository as it is (the other snapshots are intact).',
      );
      return EXIT.FAILURE;
    };
    if (out.json) {
      out.jsonResult(snaps.map((m) => ({ ...m, ...prot(m.id) })));
      return warnDamaged();
    }
    if (snaps.length === 0) {
      out.line('no snapshots yet');
      return warnDamaged();
    }
    const rows = snaps.map((m) => [
      m.id.slice(0, 8),
      localTime(m.time),
      termSafe(m.host),
      String(m.stats.files),
      humanBytes(m.stats.bytes),
      humanBytes(m.stats.bytesAdded),
      protectedCell(prot(m.id)),
      termSafe(describeSource(m) + (m.tags?.length ? ` [${m.tags.join(', ')}]` : '')),
    ]);
    const header = ['ID', 'TIME', 'HOST', 'FILES', 'SIZE', 'ADDED', 'PROTECTED UNTIL', 'SOURCE'];
    const align: Align[] = ['left', 'left', 'left', 'right', 'right', 'right', 'left', 'left'];
    for (const l of table(header, rows, align)) out.line(l);
    out.line(`${snaps.length} snapshot${snaps.length === 1 ? '' : 's'}`);
    return warnDamaged();
  });
}
