import { createClient, type BulwarkClient } from './client.ts';
import { electronTransport, findElectronBridge } from './electron.ts';
import { httpTransport } from './http.ts';
import { createLinkMonitor, monitoredFetch } from './link.ts';
import { takeAccessToken } from './token.ts';

export type { BulwarkClient, Transport, TransportName } from './client.ts';
export type { LinkSignal } from './link.ts';

let client: BulwarkClient | undefined;

/** What the api layer knows about the link to the service (stores/connection listens). */
export const linkMonitor = createLinkMonitor();

function sessionStorageOrUndefined(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined; // storage blocked for this page
  }
}

/**
 * The app's client, chosen once: the preload bridge when `window.bulwark` exists (the desktop app), else
 * HTTP to the `bulwark serve` that served this page, with the token from the URL fragment or this tab.
 */
export function getClient(): BulwarkClient {
  if (!client) {
    const bridge = findElectronBridge();
    client = createClient(
      bridge
        ? electronTransport(bridge)
        : httpTransport({
            baseUrl: window.location.origin,
            token: takeAccessToken(window.location, window.history, sessionStorageOrUndefined()),
            fetch: monitoredFetch((input, init) => globalThis.fetch(input, init), linkMonitor),
            onConnectionChange: (state) => linkMonitor.emit({ kind: 'socket', state }),
          }),
    );
  }
  return client;
}
