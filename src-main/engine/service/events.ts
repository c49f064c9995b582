/**
 * A small typed event emitter for the service (no electron, no HTTP: transports subscribe with `on`).
 * A throwing listener never breaks the emitter's caller (a job's state machine, the watcher): its error goes
 * to `onListenerError` (default: a process warning) and the other listeners still run.
 */
export type Listener<T> = (payload: T) => void;

export class TypedEvents<M extends object> {
  private readonly listeners = new Map<keyof M, Set<Listener<never>>>();
  private readonly onListenerError: (error: unknown, event: keyof M) => void;

  constructor(opts: { onListenerError?: (error: unknown, event: keyof M) => void } = {}) {
    this.onListenerError =
      opts.onListenerError ??
      ((error, event) =>
        process.emitWarning(
          `a listener of ${String(event)} threw: ${error instanceof Error ? error.message : String(error)}`,
          'BulwarkServiceWarning',
        ));
  }

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof M>(event: K, listener: Listener<M[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  off<K extends keyof M>(event: K, listener: Listener<M[K]>): void {
    this.listeners.get(event)?.delete(listener as Listener<never>);
  }

  emit<K extends keyof M>(event: K, payload: M[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const l of [...set]) {
      try {
        (l as Listener<M[K]>)(payload);
      } catch (e) {
        this.onListenerError(e, event);
      }
    }
  }

  listenerCount(event: keyof M): number {
    return this.listeners.get(event)?.size ?? 0;
  }
}
