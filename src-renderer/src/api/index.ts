import { createClient, type BulwarkClient } from './client.ts';
import { electronTransport, findElectronBridge } from './electron.ts';
import { httpTransport } from './http.ts';

export type { BulwarkClient, Transport, TransportName } from './client.ts';

let client: BulwarkClient | undefined;

/** The app's client: the preload bridge inside Electron, HTTP to `bulwark serve` in a browser. */
export function getClient(): BulwarkClient {
  if (!client) {
    const bridge = findElectronBridge();
    client = createClient(
      bridge ? electronTransport(bridge) : httpTransport({ baseUrl: window.location.origin }),
    );
  }
  return client;
}
