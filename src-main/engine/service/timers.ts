import { BulwarkError } from '../errors.ts';

/** Real timers, injectable so tests can drive them; handles are opaque. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node timers, unref'd: a pending service timer never keeps a process alive on its own. */
export const realTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** Waits `ms` (real time); rejects with CANCELED as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal, timers: Timers = realTimers): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new BulwarkError('CANCELED', 'the operation was canceled'));
      return;
    }
    const onAbort = (): void => {
      timers.clearTimeout(handle);
      reject(new BulwarkError('CANCELED', 'the operation was canceled'));
    };
    const handle = timers.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
