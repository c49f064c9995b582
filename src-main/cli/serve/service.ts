import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { BulwarkError } from '../../engine/errors.ts';
import { DEFAULT_PORT } from './port.ts';
import type { Handlers, Logger } from '../../transport/dispatch.ts';
import { createEventHub, type EventSource } from '../../transport/events.ts';
import { LOOPBACK_HOST } from '../../transport/http/loopback.ts';
import type { DownloadSource } from '../../transport/http/download.ts';
import { createHttpServer, type HttpServer } from '../../transport/http/server.ts';
import type { CommandEnv, RepoOptions } from '../repo-open.ts';
import { createRepositoryHandlers, type RepositoryHandlers } from './handlers.ts';

const REMOTE_HINT =
  'To use it from another computer, forward the port over SSH with the same number on both ends ' +
  `(ssh -L ${DEFAULT_PORT}:127.0.0.1:${DEFAULT_PORT} this-computer) and open http://127.0.0.1:${DEFAULT_PORT}/ there.`;

/** Refuses every listen address but 127.0.0.1 (0.0.0.0, ::, a LAN address, even "localhost"). */
export function checkHost(host: string): string {
  if (host === LOOPBACK_HOST) return host;
  throw new BulwarkError(
    'INVALID_ARGUMENT',
    `--host ${host || '""'} is refused: bulwark serve listens on ${LOOPBACK_HOST} only`,
    { hint: REMOTE_HINT },
  );
}

export function parsePort(raw: string): number {
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(port) || port > 65535) {
    throw new BulwarkError(
      'INVALID_ARGUMENT',
      `--port ${raw}: use a number from 1 to 65535, or 0 for any free port`,
    );
  }
  return port;
}

/**
 * The built renderer: dist/renderer next to the sources (src-main/cli/serve → ../../../dist/renderer) or
 * next to the compiled CLI (dist/src-main/cli/serve → ../../../renderer). Undefined when not built.
 */
export function findRendererDir(from: string = import.meta.dirname): string | undefined {
  let dir = from;
  for (let i = 0; i < 8; i++) {
    for (const candidate of [join(dir, 'renderer'), join(dir, 'dist', 'renderer')]) {
      if (existsSync(join(candidate, 'index.html'))) return candidate;
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

export interface ServiceOptions {
  repo: RepoOptions;
  ctx: CommandEnv;
  token: string;
  port: number;
  host?: string;
  rendererDir?: string | undefined;
  /** where pushed events come from (the service core); default: a hub nothing emits to yet */
  events?: EventSource;
  /** more handlers (the service core's), merged over the repository ones */
  handlers?: Partial<Handlers>;
  /** what `GET /download/<ticket>` serves (restore.download) */
  downloads?: DownloadSource | undefined;
  /** the repository handlers, when the caller made them already (to probe first) */
  repository?: RepositoryHandlers;
  /** runs at shutdown once the server is closed, before the repository is (stops the backup service) */
  onShutdown?: () => Promise<void>;
  log?: Logger;
  logAccess?: Logger;
}

export interface RunningService {
  server: HttpServer;
  close(): Promise<void>;
}

/**
 * The service core's handlers over the repository ones; snapshots.list is both's: for a source or a target
 * the service answers (from that target's repository), without either the repository `serve` was given.
 */
function mergeHandlers(
  repository: RepositoryHandlers['handlers'],
  service: Partial<Handlers>,
): Partial<Handlers> {
  const fromService = service['bulwark:snapshots.list'];
  const fromRepository = repository['bulwark:snapshots.list'];
  return {
    ...repository,
    ...service,
    ...(fromService
      ? {
          'bulwark:snapshots.list': (req) =>
            req.sourceId !== undefined || req.targetId !== undefined ? fromService(req) : fromRepository(req),
        }
      : {}),
  };
}

/** Starts the HTTP/WebSocket service with the repository handlers; close() closes the repository too. */
export async function startService(o: ServiceOptions): Promise<RunningService> {
  const host = checkHost(o.host ?? LOOPBACK_HOST);
  const repository = o.repository ?? (await createRepositoryHandlers(o.repo, o.ctx));
  let server: HttpServer;
  try {
    server = await createHttpServer({
      handlers: mergeHandlers(repository.handlers, o.handlers ?? {}),
      events: o.events ?? createEventHub(),
      downloads: o.downloads,
      token: o.token,
      rendererDir: o.rendererDir,
      port: o.port,
      host,
      onShutdown: async () => {
        try {
          await o.onShutdown?.();
        } finally {
          await repository.close();
        }
      },
      log: o.log,
      logAccess: o.logAccess,
    });
  } catch (e) {
    await repository.close();
    throw listenError(e, o.port);
  }
  return { server, close: () => server.close() };
}

function listenError(e: unknown, port: number): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new BulwarkError('ALREADY_EXISTS', `port ${port} on ${LOOPBACK_HOST} is already in use`, {
      cause: e,
      hint: 'Is another `bulwark serve` running? Otherwise choose another port with --port.',
    });
  }
  if (code === 'EACCES') {
    return new BulwarkError('PERMISSION', `this account may not listen on port ${port}`, {
      cause: e,
      hint: 'Use a port above 1023 (--port).',
    });
  }
  return e;
}
