import type { ConnectionState } from './http.ts';

/**
 * What the api layer knows about the link to the main side, for the "connection lost" banner: the state
 * of the event socket (HTTP transport) and whether the last call reached the service. The Electron bridge
 * never loses the service (it runs in the same app), so only the browser reports anything here.
 */
export type LinkSignal = { kind: 'socket'; state: ConnectionState } | { kind: 'call'; reached: boolean };

export interface LinkMonitor {
  emit(signal: LinkSignal): void;
  /** every signal from now on; returns the function that stops listening */
  subscribe(listener: (signal: LinkSignal) => void): () => void;
  /** the last socket state reported (undefined: none yet) */
  lastSocketState(): ConnectionState | undefined;
}

export function createLinkMonitor(): LinkMonitor {
  const listeners = new Set<(signal: LinkSignal) => void>();
  let socket: ConnectionState | undefined;
  return {
    emit(signal) {
      if (signal.kind === 'socket') socket = signal.state;
      for (const l of [...listeners]) l(signal);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    lastSocketState: () => socket,
  };
}

/**
 * `fetch` with every request's outcome reported: a rejected fetch (refused, reset, timed out) means the
 * service did not answer; any HTTP answer, a refusal included, means it did. Watching the fetch rather
 * than the Result keeps a NETWORK error of the service itself (an unreachable cloud target) from reading as
 * a lost service.
 */
export function monitoredFetch(fetchFn: typeof fetch, monitor: LinkMonitor): typeof fetch {
  return async (input, init) => {
    try {
      const response = await fetchFn(input, init);
      monitor.emit({ kind: 'call', reached: true });
      return response;
    } catch (e) {
      monitor.emit({ kind: 'call', reached: false });
      throw e;
    }
  };
}
