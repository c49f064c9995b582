/**
 * `bulwark serve` as a command: options and help only. The service itself (contract, HTTP server, host)
 * is loaded when the command runs, so every other command starts without it (~0.2 s less per command).
 */
import type { Command } from 'commander';
import { LOOPBACK_HOST } from '../../transport/http/loopback.ts';
import { begin, type App } from '../app.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import { DEFAULT_PORT } from './port.ts';

export interface ServeOptions extends CommonOptions {
  port: string;
  host: string;
  printToken?: boolean;
}

const SERVE_HELP = `
The service protects the configured sources unattended (folder watcher, periodic rescans, RPO alerts);
on its first start it configures the embedded default repository in the data folder as the target, so it
works without any cloud account. Add sources and targets in the browser UI or over the API.

It listens on 127.0.0.1 only and answers the browser UI (GET /) and the API
(POST /api/<channel>, WebSocket /api/events). Every API call needs the per-install access token
(Authorization: Bearer <token>); it is created on the first start in <config>/service-token (mode 0600)
and printed then, as the link to open (http://127.0.0.1:PORT/#token=...). \`bulwark serve --print-token\`
prints it again. The page exchanges the token for a session cookie (HttpOnly, SameSite=Strict), so that
browser's other tabs and bookmarks need no token; deleting the token file ends every session. Requests
whose Host or Origin is not this service are refused (DNS rebinding, CSRF).
Stop it with Ctrl-C or SIGTERM: a running backup is canceled and resumed by the next start.
To run it at boot (systemd, launchd, Task Scheduler) see docs/service.md.`;

export function registerServe(program: Command, app: App): void {
  const cmd = program
    .command('serve')
    .description(
      'run the backup service headless: unattended backups, the browser UI and the API on 127.0.0.1',
    )
    .option('-p, --port <port>', 'port on 127.0.0.1 (0: any free port)', String(DEFAULT_PORT))
    .option('--host <address>', `listen address: only ${LOOPBACK_HOST} is accepted`, LOOPBACK_HOST)
    .option('--print-token', 'print the access token (created if needed) and exit');
  repoOptions(cmd);
  outputOptions(cmd, { json: false });
  cmd.addHelpText('after', SERVE_HELP);
  cmd.action(async (opts: ServeOptions) => {
    const { runServe } = await import('./command.ts');
    app.exitCode = await runServe(opts, begin(app, opts));
  });
}
