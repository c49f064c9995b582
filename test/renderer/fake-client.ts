import type { ChannelName, RequestOf, ResponseOf } from '../../src-main/contract/ipc.ts';
import type { Result } from '../../src-main/contract/result.ts';
import type { BulwarkClient } from '../../src-renderer/src/api/client.ts';

interface PendingCall {
  channel: ChannelName;
  request: unknown;
  resolve(result: Result<unknown>): void;
}

/** A client whose calls stay pending until the test answers them, in any order. */
export function fakeClient() {
  const calls: PendingCall[] = [];
  const client: BulwarkClient = {
    transport: 'electron',
    call<C extends ChannelName>(channel: C, request: RequestOf<C>): Promise<Result<ResponseOf<C>>> {
      return new Promise((resolve) => {
        calls.push({ channel, request, resolve: resolve as (result: Result<unknown>) => void });
      });
    },
    on: () => () => {},
  };
  return { client, calls };
}
