import type { Command } from 'commander';
import { listSnapshot } from '../../engine/ops/ls.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { humanBytes, localTime, modeString, plural, termSafe } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import { withRepository, type CommandEnv } from '../repo-open.ts';

export function registerLs(program: Command, app: App): void {
  const cmd = program
    .command('ls')
    .description('list the files of a snapshot (recursively)')
    .argument('<snapshot>', 'snapshot id, unique id prefix, or "latest"')
    .argument('[path]', 'list only this file or folder of the snapshot', '');
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.action(async (snapshot: string, path: string, opts: CommonOptions) => {
    app.exitCode = await runLs(snapshot, path, opts, begin(app, opts));
  });
}

async function runLs(snapshot: string, path: string, opts: CommonOptions, ctx: CommandEnv): Promise<number> {
  const { out } = ctx;
  return withRepository(opts, ctx, {}, async ({ repo }) => {
    const entries = await listSnapshot(repo, snapshot, path);
    // Folders whose listing is damaged are listed (marked) without their contents: said on stderr, and the
    // exit status says the listing is incomplete (as a restore that skipped entries does).
    const damaged = entries.filter((e) => e.damaged !== undefined);
    const warnDamaged = (): number => {
      if (damaged.length === 0) return EXIT.OK;
      for (const e of damaged) out.warn(`bulwark: ${termSafe(e.path)}: ${termSafe(e.damaged ?? '')}`);
      out.warn(`bulwark: the listing is incomplete: ${plural(damaged.length, 'folder')} could not be read`);
      out.warn(
        '  hint: run `bulwark verify` to see what else is damaged; a new backup stores those folders again.',
      );
      return EXIT.FAILURE;
    };
    if (out.json) {
      out.jsonResult(entries);
      return warnDamaged();
    }
    const sizes = entries.map((e) => (e.type === 'file' ? humanBytes(e.size) : ''));
    const width = Math.max(0, ...sizes.map((s) => s.length));
    entries.forEach((e, i) => {
      const time = e.mtime ? localTime(e.mtime) : ''.padEnd(19);
      const link = e.target !== undefined ? ` -> ${termSafe(e.target)}` : '';
      const mark = e.damaged !== undefined ? '  [damaged: contents not listed]' : '';
      out.line(
        `${modeString(e.type, e.mode)}  ${(sizes[i] ?? '').padStart(width)}  ${time}  ${termSafe(e.path)}${link}${mark}`,
      );
    });
    return warnDamaged();
  });
}
