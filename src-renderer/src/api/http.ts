import { err } from '../../../src-main/contract/result.ts';
import type { Transport } from './client.ts';

export interface HttpTransportOptions {
  /** origin of `bulwark serve` (the page's own origin when served by it) */
  baseUrl: string;
  /** the per-install token */
  token?: string;
}

/**
 * STUB. The browser UI served by `bulwark serve` will talk the same contract over HTTP (requests) and a
 * WebSocket (events) on 127.0.0.1 with a per-install token. Until that service exists every call
 * answers UNSUPPORTED and no event arrives.
 */
export function httpTransport(options: HttpTransportOptions): Transport {
  return {
    name: 'http',
    failureCode: 'NETWORK',
    invoke: (channel) =>
      Promise.resolve(
        err(
          'UNSUPPORTED',
          `${channel}: the HTTP transport is not implemented yet (${options.baseUrl})`,
          'Use the desktop app for now.',
        ),
      ),
    on: () => () => {},
  };
}
