import { isBulwarkError } from '../../engine/errors.ts';
import { localPaths } from '../../engine/paths.ts';
import { openHostedService } from '../../host/service.ts';
import type { Logger } from '../../transport/dispatch.ts';
import { LOOPBACK_HOST } from '../../transport/http/loopback.ts';
import type { HttpServer } from '../../transport/http/server.ts';
import { EXIT } from '../exit-codes.ts';
import { termSafe } from '../format.ts';
import type { Output } from '../output.ts';
import { kdfFromEnv, type CommandEnv } from '../repo-open.ts';
import { createRepositoryHandlers } from './handlers.ts';
import { DEFAULT_PORT } from './port.ts';
import { checkHost, findRendererDir, parsePort, startService } from './service.ts';
import type { ServeOptions } from './register.ts';
import { loadOrCreateServiceToken, serviceTokenFile } from './token.ts';

/** Resolves when the user asks the service to stop: Ctrl-C (the CLI's abort signal) or SIGTERM. */
function stopRequested(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      process.off('SIGTERM', done);
      resolve();
    };
    if (signal.aborted) return done();
    signal.addEventListener('abort', done);
    process.on('SIGTERM', done);
  });
}

function loggers(out: Output): { log: Logger; logAccess: Logger | undefined } {
  const write =
    (level: 'warn' | 'note'): Logger =>
    (message, detail) => {
      const extra =
        out.debug && detail !== undefined
          ? ` ${detail instanceof Error ? (detail.stack ?? detail.message) : JSON.stringify(detail)}`
          : '';
      out[level](`bulwark serve: ${message}${extra}`);
    };
  return { log: write('warn'), logAccess: out.debug ? write('note') : undefined };
}

export async function runServe(opts: ServeOptions, ctx: CommandEnv): Promise<number> {
  const { out } = ctx;
  const host = checkHost(opts.host);
  const port = parsePort(opts.port);
  const { token, file, created } = loadOrCreateServiceToken(serviceTokenFile(localPaths(ctx.env)));

  if (opts.printToken) {
    out.line(token);
    out.note(
      `bulwark serve: open http://${LOOPBACK_HOST}:${port || DEFAULT_PORT}/#token=${token} while it runs`,
    );
    return EXIT.OK;
  }

  const rendererDir = findRendererDir();
  if (!rendererDir)
    out.warn('bulwark serve: the browser UI is not built (run `npm run build`); the API works');

  const { log, logAccess } = loggers(out);
  const kdf = kdfFromEnv(ctx.env);
  const hosted = openHostedService({
    paths: localPaths(ctx.env),
    ...(kdf ? { kdf } : {}),
    // a canceled backup stops within seconds; this bounds a stuck one (systemd waits 90 s by default)
    tuning: { stopTimeoutMs: 30_000 },
    // restore.download: one-time links the HTTP server below streams
    downloads: true,
    log,
  });
  for (const { dir, mode } of hosted.service.permissionsTightened) {
    out.note(
      `bulwark serve: ${termSafe(dir)} was open to other accounts (mode ${mode.toString(8).padStart(4, '0')}); ` +
        'made it private (0700)',
    );
  }
  let server: HttpServer;
  try {
    const prepared = await hosted.prepare();
    if (prepared.defaultTarget)
      out.note(
        `bulwark serve: sources are backed up into the embedded default repository ${termSafe(prepared.defaultTarget.location)}`,
      );
    if (prepared.problem !== undefined) {
      const why = prepared.problem instanceof Error ? prepared.problem.message : String(prepared.problem);
      out.warn(`bulwark serve: the default repository cannot be used (${why}); add a target in the UI`);
    }

    const repository = await createRepositoryHandlers(opts, ctx, (id) => hosted.sourceName(id));
    const problem = await repository.probe();
    if (problem !== undefined) {
      if (isBulwarkError(problem, 'REPO_NOT_FOUND')) {
        out.note('bulwark serve: no repository yet; the first `bulwark backup PATH` creates the default one');
      } else if (
        isBulwarkError(problem) &&
        ['WRONG_PASSWORD', 'INVALID_ARGUMENT', 'PERMISSION'].includes(problem.code)
      ) {
        await repository.close();
        throw problem;
      } else {
        const why = problem instanceof Error ? problem.message : String(problem);
        out.warn(
          `bulwark serve: the repository cannot be opened now (${why}); the UI will show it and retry`,
        );
      }
    }

    ({ server } = await startService({
      repo: opts,
      ctx,
      token,
      port,
      host,
      rendererDir,
      repository,
      handlers: hosted.handlers,
      events: hosted.events,
      downloads: hosted.downloads,
      onShutdown: () => hosted.stop(),
      log,
      logAccess,
    }));
  } catch (e) {
    await hosted.stop();
    throw e;
  }
  // Only once the port is ours: a second `bulwark serve` on the same port stops above, before it watches
  // or backs up anything.
  await hosted.start();

  // The token is printed unasked only when it was just created; the link stays valid across restarts.
  out.line(`Bulwark service on ${created ? server.pageUrl : `${server.origin}/`}`);
  if (created)
    out.note(
      `  the access token is kept in ${file} (mode 0600); \`bulwark serve --print-token\` shows it again`,
    );
  else
    out.note(
      '  a browser signed in before opens it as is; for another browser, `bulwark serve --print-token` prints the link',
    );

  await stopRequested(ctx.signal);
  out.note('bulwark serve: stopping');
  await server.close();
  out.note('bulwark serve: stopped');
  return EXIT.OK;
}
