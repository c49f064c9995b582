import {
  channelNames,
  channels,
  events,
  type ChannelName,
  type EventName,
  type EventOf,
  type ParsedRequestOf,
  type ResponseOf,
} from '../contract/ipc.ts';
import { err, toResultError, type Result } from '../contract/result.ts';

/**
 * The Electron IPC router: one `ipcMain.handle` per contract channel, each of which
 *  1. drops calls from anything but our own page (main frame, our file:// URL),
 *  2. validates the request with the channel's schema,
 *  3. calls the handler,
 *  4. checks the answer against the response schema,
 * and always resolves to a Result envelope: nothing is thrown across IPC (Electron would pass only the
 * message of a thrown error). Only `import type` from electron here, so it runs under plain Node in tests.
 */

export type HandlerResult<C extends ChannelName> = Result<ResponseOf<C>> | Promise<Result<ResponseOf<C>>>;

/** One handler per channel of the contract: the compiler rejects a missing or extra one. */
export type Handlers = { [C in ChannelName]: (request: ParsedRequestOf<C>) => HandlerResult<C> };

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

export type Logger = (message: string, detail?: unknown) => void;

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

/** Validates, dispatches and wraps one call. Never throws. */
export async function dispatch<C extends ChannelName>(
  handlers: Handlers,
  channel: C,
  rawRequest: unknown,
  log: Logger = () => {},
): Promise<Result<ResponseOf<C>>> {
  const spec = channels[channel];
  const request = spec.request.safeParse(rawRequest);
  if (!request.success) {
    const issue = request.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    return err('INVALID_ARGUMENT', `invalid request for ${channel}${where}: ${issue?.message ?? 'rejected'}`);
  }
  try {
    const handler = handlers[channel] as (request: unknown) => HandlerResult<C>;
    const result = await handler(request.data);
    if (!result.ok) return { ok: false, error: toResultError(result.error) };
    const value = spec.response.safeParse(result.value);
    if (!value.success) {
      log(`handler for ${channel} returned a value that does not match the contract`, value.error.issues);
      return err('INTERNAL', `the answer to ${channel} did not match the contract`);
    }
    return { ok: true, value: value.data as ResponseOf<C> };
  } catch (e) {
    log(`handler for ${channel} threw`, e);
    return { ok: false, error: toResultError(e) };
  }
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
    const parsed = events[event].safeParse(payload);
    if (!parsed.success) {
      log(`dropped ${event}: payload does not match the contract`, parsed.error.issues);
      return;
    }
    for (const target of targets()) if (!target.isDestroyed()) target.send(event, parsed.data);
  };
}
