import type { Handlers, Logger } from '../../transport/dispatch.ts';
import { dispatch } from '../../transport/dispatch.ts';
import type { EventSource } from '../../transport/events.ts';
import type { ParentPort } from './parent-port.ts';
import { parseToService, type FromService, type InitMessage } from './protocol.ts';

/**
 * The backup service's side of the relay: it opens the hosted service when the main process sends `init`,
 * answers each relayed request with the same dispatch core every transport uses (request schema, handler,
 * response schema, Result envelope), pushes contract events, answers pings, and stops gracefully on `stop`
 * or when the main process goes away. Plain Node: runs in an Electron utilityProcess or a forked child.
 */

/** What the process serves: the hosted backup service (src-main/host/service.ts) or a stand-in. */
export interface ServedService {
  readonly handlers: Partial<Handlers>;
  readonly events: EventSource;
  /** the default target, the watchers and the scheduler; resolves to a problem worth a log, if any */
  start(): Promise<{ problem?: unknown }>;
  stop(): Promise<void>;
}

export interface ServiceProcessOptions {
  port: ParentPort;
  open(init: InitMessage): ServedService | Promise<ServedService>;
  log: Logger;
  /** ends the process once the service stopped (default process.exit) */
  exit?: (code: number) => void;
}

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export function runServiceProcess({
  port,
  open,
  log,
  exit = (c) => process.exit(c),
}: ServiceProcessOptions): void {
  const post = (m: FromService): void => port.postMessage(m);
  let service: ServedService | undefined;
  let opening: Promise<ServedService | undefined> | undefined;
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const opened = service ?? (opening ? await opening : undefined);
      try {
        await opened?.stop();
      } catch (e) {
        log('the backup service did not stop cleanly', e);
      }
      post({ type: 'stopped' });
      exit(0);
    })());

  /** Without its catalog the service cannot run: say so and exit; the main process restarts it. */
  const fail = (what: string, e: unknown): void => {
    log(what, e);
    post({ type: 'fatal', message: `${what}: ${describe(e)}` });
    exit(1);
  };

  port.onDisconnect(() => void stop());
  port.onMessage((raw) => {
    const message = parseToService(raw);
    if (!message) {
      log('ignored a message from the app that is not part of the relay protocol', raw);
      return;
    }
    switch (message.type) {
      case 'ping':
        post({ type: 'pong', id: message.id });
        return;
      case 'stop':
        void stop();
        return;
      case 'init':
        if (opening) return; // one service per process
        opening = (async () => {
          try {
            const opened = await open(message);
            service = opened;
            opened.events.subscribe((event, payload) => post({ type: 'event', event, payload }));
            post({ type: 'ready' });
            return opened;
          } catch (e) {
            fail('the backup service could not be opened', e);
            return undefined;
          }
        })();
        // the handlers answer while the scheduler starts (preparing the default repository takes seconds)
        void opening.then(async (opened) => {
          if (!opened || stopping) return;
          try {
            const { problem } = await opened.start();
            if (problem !== undefined) log('the default repository could not be prepared', problem);
          } catch (e) {
            fail('the backup service could not start', e);
          }
        });
        return;
      case 'request': {
        const { id, channel, payload } = message;
        void (async () => {
          const opened = service ?? (opening ? await opening : undefined);
          const result = opened
            ? await dispatch(opened.handlers, channel, payload, log)
            : {
                ok: false as const,
                error: { code: 'INTERNAL' as const, message: 'the backup service is not open' },
              };
          post({ type: 'response', id, result });
        })();
        return;
      }
    }
  });
}
