import type { z } from 'zod';

import {
  channels,
  events,
  type ChannelName,
  type Channels,
  type EventName,
  type EventOf,
  type ResponseOf,
} from '../contract/ipc.ts';
import { err, toResultError, type Result } from '../contract/result.ts';
import { checkRequest } from '../contract/validation.ts';

/**
 * The transport-neutral core of every way into Bulwark (Electron IPC, HTTP + WebSocket): per call
 *  1. validate the request with the channel's schema (a refusal in plain words: contract/validation.ts),
 *  2. call the handler,
 *  3. check the answer against the response schema,
 * and always resolve to a Result envelope, never throw. Events are checked against their schema before
 * they leave. Transports add only what is specific to them (sender checks, tokens, framing).
 */

export type Logger = (message: string, detail?: unknown) => void;

/** What the contract declares per channel. */
export interface ChannelSpec {
  request: z.ZodType;
  response: z.ZodType;
}

export type MaybePromise<T> = T | Promise<T>;

/** One handler per channel of a channel map: it gets the parsed request and answers a Result. */
export type HandlersFor<Ch extends Record<string, ChannelSpec>> = {
  [C in keyof Ch]: (request: z.output<Ch[C]['request']>) => MaybePromise<Result<z.output<Ch[C]['response']>>>;
};

/** Every channel of the contract: the compiler rejects a missing or extra one. */
export type Handlers = HandlersFor<Channels>;

export type HandlerResult<C extends ChannelName> = MaybePromise<Result<ResponseOf<C>>>;

/**
 * Validates, dispatches and wraps one call. Never throws. A channel without a handler (a transport that
 * serves only part of the contract) answers UNSUPPORTED.
 */
export async function dispatch<C extends ChannelName>(
  handlers: Partial<Handlers>,
  channel: C,
  rawRequest: unknown,
  log: Logger = () => {},
): Promise<Result<ResponseOf<C>>> {
  const spec = channels[channel];
  const request = checkRequest(spec.request, rawRequest);
  if (!request.ok) {
    // The contract's own messages are for people (a form shows them as they are); anything else is a
    // caller's mistake, told generically with the technical detail (channel, field path) in the hint.
    return request.plain
      ? err('INVALID_ARGUMENT', request.message)
      : err('INVALID_ARGUMENT', request.message, `${channel}: ${request.detail}`);
  }
  const handler = handlers[channel] as ((request: unknown) => HandlerResult<C>) | undefined;
  if (!handler) return err('UNSUPPORTED', `${channel} is not available here`);
  try {
    const result = await handler(request.value);
    if (!result.ok) return { ok: false, error: toResultError(result.error) };
    const value = spec.response.safeParse(result.value);
    if (!value.success) {
      log(`handler for ${channel} returned a value that does not match the contract`, value.error.issues);
      return err('INTERNAL', `the answer to ${channel} did not match the contract`);
    }
    return { ok: true, value: value.data as ResponseOf<C> };
  } catch (e) {
    const error = toResultError(e);
    // a coded error (the engine's BulwarkError) is an expected outcome; anything else is a bug worth a log
    if (error.code === 'INTERNAL') log(`handler for ${channel} threw`, e);
    return { ok: false, error };
  }
}

/**
 * The payload of an event as it may leave, or undefined (logged) when it does not match the contract: such a
 * payload is a bug on the sending side, dropped rather than sent.
 */
export function checkEvent<E extends EventName>(
  event: E,
  payload: unknown,
  log: Logger = () => {},
): EventOf<E> | undefined {
  const parsed = events[event].safeParse(payload);
  if (parsed.success) return parsed.data as EventOf<E>;
  log(`dropped ${event}: payload does not match the contract`, parsed.error.issues);
  return undefined;
}
