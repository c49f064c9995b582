import { BRIDGE_KEY, type BulwarkBridge } from '../../../src-main/contract/ipc.ts';
import type { Transport } from './client.ts';

/** The bridge the Electron preload exposes as `window.bulwark`, if we run inside the desktop app. */
export function findElectronBridge(scope: object = globalThis): BulwarkBridge | undefined {
  const bridge = (scope as Record<string, unknown>)[BRIDGE_KEY];
  return typeof bridge === 'object' && bridge !== null && 'invoke' in bridge && 'on' in bridge
    ? (bridge as BulwarkBridge)
    : undefined;
}

export function electronTransport(bridge: BulwarkBridge): Transport {
  // the bridge is typed per channel; the client validates what comes back, so it is used untyped here
  const untyped = bridge as unknown as {
    invoke(channel: string, request: unknown): Promise<unknown>;
    on(event: string, listener: (payload: unknown) => void): () => void;
  };
  return {
    name: 'electron',
    failureCode: 'INTERNAL',
    invoke: (channel, request) => untyped.invoke(channel, request),
    on: (event, listener) => untyped.on(event, listener),
  };
}
