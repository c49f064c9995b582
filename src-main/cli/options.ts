import type { Command } from 'commander';
import type { OutputOptions } from './output.ts';
import type { RepoOptions } from './repo-open.ts';

export type CommonOptions = RepoOptions & OutputOptions;

/** Options every repository command takes. */
export function repoOptions(cmd: Command): Command {
  return cmd
    .option(
      '-r, --repo <location>',
      'repository: a folder or s3://bucket/prefix (env BULWARK_REPOSITORY; default: the embedded local repository)',
    )
    .option('--password-file <file>', 'read the password from the first line of FILE (env BULWARK_PASSWORD)')
    .option('--catalog <file>', 'local catalog file (default: one per repository in the data folder)')
    .option('--endpoint <url>', 'S3 endpoint of a self-hosted server (MinIO, Ceph, a NAS)')
    .option('--region <region>', 'S3 region');
}

/** --quiet and --debug, plus --json where the command has a machine-readable result. */
export function outputOptions(cmd: Command, { json = true }: { json?: boolean } = {}): Command {
  if (json) cmd.option('--json', 'print the result as JSON on stdout (nothing else goes to stdout)');
  return cmd
    .option('-q, --quiet', 'no progress line and no notes on stderr')
    .option('--debug', 'print stack traces of unexpected errors');
}
