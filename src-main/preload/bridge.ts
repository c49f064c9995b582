import {
  isChannelName,
  isEventName,
  type BulwarkBridge,
  type ChannelName,
  type EventName,
  type EventOf,
  type RequestOf,
  type ResponseOf,
} from '../contract/ipc.ts';
import type { Result } from '../contract/result.ts';

/**
 * The window API, built mechanically from contract/ipc.ts. Kept apart from preload.ts (which only wires it
 * to Electron) so it can be tested without Electron. Pitfall avoided: a preload that forwards any channel
 * name, or hands the raw IpcRendererEvent (with its `sender`) to page code.
 */

/** The part of Electron's `ipcRenderer` the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/** Returns `name` if it is a request channel of the contract, throws otherwise. */
export function checkChannel(name: unknown): ChannelName {
  if (!isChannelName(name)) throw new Error(`bulwark: "${String(name)}" is not a channel of the contract`);
  return name;
}

/** Returns `name` if it is an event of the contract, throws otherwise. */
export function checkEvent(name: unknown): EventName {
  if (!isEventName(name)) throw new Error(`bulwark: "${String(name)}" is not an event of the contract`);
  return name;
}

export function buildBridge(ipc: IpcRendererLike): BulwarkBridge {
  function invoke<C extends ChannelName>(channel: C, request: RequestOf<C>): Promise<Result<ResponseOf<C>>> {
    try {
      checkChannel(channel);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    // main validates the request and the shape of the answer; here we only forward allowlisted channels
    return ipc.invoke(channel, request) as Promise<Result<ResponseOf<C>>>;
  }

  function on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): () => void {
    checkEvent(event);
    if (typeof listener !== 'function') throw new TypeError('bulwark: listener must be a function');
    // strip the IpcRendererEvent and any extra arguments: page code sees the payload only
    const forward = (_event: unknown, payload: unknown): void => listener(payload as EventOf<E>);
    ipc.on(event, forward);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      ipc.removeListener(event, forward);
    };
  }

  return Object.freeze({ invoke, on });
}
