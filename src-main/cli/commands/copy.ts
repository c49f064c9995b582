import type { Command } from 'commander';
import { copySnapshots, type CopyResult } from '../../engine/ops/copy.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { humanBytes, localTime, plural, termSafe } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import { withRepository, type CommandEnv, type RepoOptions } from '../repo-open.ts';

interface CopyCmdOptions extends CommonOptions {
  toRepo: string;
  toPasswordFile?: string;
  toCatalog?: string;
  toEndpoint?: string;
  toRegion?: string;
}

const COPY_HELP = `
Copies snapshots (by default every one the destination does not hold yet) from --repo into --to-repo, so a
second place holds the same points in time without reading the computer's files again (3-2-1). Each copy is
written and locked as the destination's own backups are (its lock period, its Object Lock mode); the
destination must exist (\`bulwark init --repo TO\`). A snapshot already copied is skipped, so running it
again, or after an interruption, copies only what is missing.

The destination's password: --to-password-file FILE, else BULWARK_TO_PASSWORD, else the same as the
source's (--password-file, BULWARK_PASSWORD, or a prompt).`;

export function registerCopy(program: Command, app: App): void {
  const cmd = program
    .command('copy')
    .description('copy snapshots into a second repository (3-2-1), locked there by its own policy')
    .argument(
      '[snapshot...]',
      'source snapshots to copy: id, unique prefix or "latest" (default: all not copied yet)',
    )
    .requiredOption('--to-repo <location>', 'the destination repository: a folder or s3://bucket/prefix')
    .option(
      '--to-password-file <file>',
      "read the destination's password from the first line of FILE (env BULWARK_TO_PASSWORD)",
    )
    .option('--to-catalog <file>', "the destination's local catalog file (default: one per repository)")
    .option('--to-endpoint <url>', "S3 endpoint of the destination's server (MinIO, Ceph, a NAS)")
    .option('--to-region <region>', "S3 region of the destination's bucket");
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.addHelpText('after', COPY_HELP);
  cmd.action(async (refs: string[], opts: CopyCmdOptions) => {
    app.exitCode = await runCopy(refs, opts, begin(app, opts));
  });
}

/** How the destination is opened: its own options, and its own password where one is given. */
function destination(opts: CopyCmdOptions, ctx: CommandEnv): { opts: RepoOptions; ctx: CommandEnv } {
  const ownPassword = ctx.env.BULWARK_TO_PASSWORD;
  const passwordFile = opts.toPasswordFile ?? (ownPassword === undefined ? opts.passwordFile : undefined);
  return {
    opts: {
      repo: opts.toRepo,
      ...(passwordFile !== undefined ? { passwordFile } : {}),
      ...(opts.toCatalog !== undefined ? { catalog: opts.toCatalog } : {}),
      ...(opts.toEndpoint !== undefined ? { endpoint: opts.toEndpoint } : {}),
      ...(opts.toRegion !== undefined ? { region: opts.toRegion } : {}),
    },
    ctx: ownPassword === undefined ? ctx : { ...ctx, env: { ...ctx.env, BULWARK_PASSWORD: ownPassword } },
  };
}

async function runCopy(refs: string[], opts: CopyCmdOptions, ctx: CommandEnv): Promise<number> {
  const { out, signal } = ctx;
  const dest = destination(opts, ctx);
  const result = await withRepository(opts, ctx, {}, ({ repo: from }) =>
    withRepository(dest.opts, dest.ctx, {}, async ({ repo: to }) => {
      const progress = out.progress();
      try {
        return await copySnapshots(from, to, {
          ...(refs.length > 0 ? { snapshots: refs } : {}),
          signal,
          actor: 'cli',
          onProgress: (p) =>
            progress.update({
              label: p.phase === 'committing' ? 'committing' : 'copying',
              done: p.snapshotNumber - 1,
              total: p.snapshotCount,
              ...(p.currentPath !== undefined ? { currentPath: p.currentPath } : {}),
            }),
        });
      } finally {
        out.stopProgress();
        for (const w of to.warnings.splice(0)) out.warn(`bulwark: warning: ${termSafe(w)}`);
      }
    }),
  );
  if (out.json) out.jsonResult(result);
  else printResult(ctx, result);
  return EXIT.OK;
}

function printResult(ctx: CommandEnv, r: CopyResult): void {
  const { out } = ctx;
  for (const c of r.copied) {
    out.line(
      `copied ${c.from.slice(0, 8)} -> ${c.to.slice(0, 8)}  ${localTime(c.time)}  ${termSafe(c.source)}  +${humanBytes(c.bytesAdded)}`,
    );
  }
  if (r.copied.length === 0) out.line('nothing to copy: the destination holds every snapshot already');
  out.note(
    `bulwark: ${plural(r.copied.length, 'snapshot')} copied (${humanBytes(r.bytesAdded)} added), ` +
      `${plural(r.skipped.length, 'snapshot')} already there`,
  );
}
