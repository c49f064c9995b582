import { channelNames, type EventName, type EventOf } from '../contract/ipc.ts';
import { err } from '../contract/result.ts';
import { checkEvent, dispatch, type Handlers, type Logger } from '../transport/dispatch.ts';

export { dispatch, type HandlerResult, type Handlers, type Logger } from '../transport/dispatch.ts';

/**
 * The Electron IPC router: one `ipcMain.handle` per contract channel, each of which drops calls from
 * anything but our own page (main frame, our file:// URL) and then hands the call to the shared core
 * (src-main/transport/dispatch.ts: request schema, handler, response schema, Result envelope), which the
 * HTTP transport of `bulwark serve` uses too. Nothing is thrown across IPC (Electron would pass only the
 * message of a thrown error). Only `import type` from electron here, so it runs under plain Node in tests.
 */

/** The part of a WebFrameMain the sender check reads. */
export interface SenderFrameLike {
  readonly url: string;
  readonly parent: unknown;
}

/** The part of an IpcMainInvokeEvent the router reads. */
export interface InvokeEventLike {
  readonly senderFrame: SenderFrameLike | null;
}

/** The part of Electron's `ipcMain` the router uses. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

/** `url` without query and fragment, or undefined when it is not a URL. */
function pageOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    u.search = '';
    u.hash = '';
    return u.href;
  } catch {
    return undefined;
  }
}

/**
 * True when the call comes from the main frame of our own page. A destroyed or navigated-away frame
 * (`null`), a subframe, or any other URL (remote content, another file) is refused.
 */
export function isTrustedSender(frame: SenderFrameLike | null | undefined, trustedPageUrl: string): boolean {
  if (!frame) return false;
  if (frame.parent !== null) return false;
  const page = pageOf(frame.url);
  return page !== undefined && page === pageOf(trustedPageUrl);
}

export interface RouterOptions {
  ipc: IpcMainLike;
  handlers: Handlers;
  /** decides whether an event comes from our page; see isTrustedSender */
  isTrusted: (event: InvokeEventLike) => boolean;
  log?: Logger;
}

/** Registers every contract channel; returns the function that unregisters them. */
export function registerIpcRouter({ ipc, handlers, isTrusted, log = () => {} }: RouterOptions): () => void {
  for (const channel of channelNames) {
    ipc.handle(channel, async (event, ...args) => {
      let trusted = false;
      try {
        trusted = isTrusted(event);
      } catch {
        // reading a disposed frame throws in Electron: such a sender is not trusted either
      }
      if (!trusted) {
        log(`refused ${channel} from an untrusted sender`);
        return err('PERMISSION', 'this page may not call Bulwark');
      }
      return dispatch(handlers, channel, args[0], log);
    });
  }
  return () => {
    for (const channel of channelNames) ipc.removeHandler(channel);
  };
}

/** The part of a WebContents the event publisher uses. */
export interface EventTargetLike {
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
}

/**
 * Pushes contract events to our windows. Payloads are checked against the event schema first: a payload
 * that does not match is a bug on the main side, logged and dropped rather than sent.
 */
export function createEventPublisher(
  targets: () => Iterable<EventTargetLike>,
  log: Logger = () => {},
): <E extends EventName>(event: E, payload: EventOf<E>) => void {
  return (event, payload) => {
    const checked = checkEvent(event, payload, log);
    if (checked === undefined) return;
    for (const target of targets()) if (!target.isDestroyed()) target.send(event, checked);
  };
}
