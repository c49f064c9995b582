import {
  channels,
  events,
  type ChannelName,
  type EventName,
  type EventOf,
  type RequestOf,
  type ResponseOf,
} from '../../../src-main/contract/ipc.ts';
import { err, resultSchema, type ErrorCode, type Result } from '../../../src-main/contract/result.ts';

/**
 * The typed client the stores use, derived from contract/ipc.ts. It never throws: a failure of the main
 * side, of the transport or an answer that does not match the contract all come back as `{ ok: false }`.
 */
export interface BulwarkClient {
  readonly transport: TransportName;
  call<C extends ChannelName>(channel: C, request: RequestOf<C>): Promise<Result<ResponseOf<C>>>;
  /** Subscribes to a contract event; payloads that do not match the contract are dropped. */
  on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): () => void;
}

export type TransportName = 'electron' | 'http';

/** What a transport provides: untyped invoke/on. The client adds types and validation on top. */
export interface Transport {
  readonly name: TransportName;
  /** the code a rejected `invoke` is reported with (the link itself failed) */
  readonly failureCode: ErrorCode;
  invoke(channel: ChannelName, request: unknown): Promise<unknown>;
  on(event: EventName, listener: (payload: unknown) => void): () => void;
}

export function createClient(
  transport: Transport,
  warn: (message: string) => void = console.warn,
): BulwarkClient {
  return {
    transport: transport.name,

    async call<C extends ChannelName>(channel: C, request: RequestOf<C>): Promise<Result<ResponseOf<C>>> {
      let raw: unknown;
      try {
        raw = await transport.invoke(channel, request);
      } catch (e) {
        return err(transport.failureCode, `${channel} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      const parsed = resultSchema(channels[channel].response).safeParse(raw);
      if (!parsed.success) return err('INTERNAL', `the answer to ${channel} did not match the contract`);
      return parsed.data as Result<ResponseOf<C>>;
    },

    on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): () => void {
      return transport.on(event, (payload) => {
        const parsed = events[event].safeParse(payload);
        if (parsed.success) listener(parsed.data as EventOf<E>);
        else warn(`dropped ${event}: payload does not match the contract`);
      });
    },
  };
}
