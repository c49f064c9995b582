import type { ChannelName, EventName, ResponseOf } from '../../contract/ipc.ts';
import { err, type Result } from '../../contract/result.ts';
import type { Logger } from '../../transport/dispatch.ts';
import { parseFromService, type InitMessage, type ToService } from './protocol.ts';

/**
 * The main process's end of the backup-service process: it starts the process, relays contract requests
 * and events, and when the process dies unasked (a crash, an out-of-memory kill) it says so and starts it
 * again after an exponentially growing pause, so a service that fails at once does not spin. Nothing here
 * runs backup logic: the window's process stays free whatever the service is doing.
 */

/** The started service process, as the relay sees it (utilityProcess or child_process.fork; see children.ts). */
export interface ServiceChild {
  readonly pid: number | undefined;
  postMessage(message: ToService): void;
  onMessage(listener: (message: unknown) => void): void;
  /** once, when the process ended: its exit code (null when a signal ended it) */
  onExit(listener: (code: number | null) => void): void;
  kill(): void;
}

export interface Backoff {
  /** the pause before the first restart */
  initialMs: number;
  factor: number;
  maxMs: number;
  /** a process that ran this long counts as healthy: the next crash starts again from initialMs */
  healthyAfterMs: number;
}

export const DEFAULT_BACKOFF: Backoff = {
  initialMs: 1000,
  factor: 2,
  maxMs: 5 * 60_000,
  healthyAfterMs: 60_000,
};

/** The pause before restart number `crashes` (1 = after the first crash in a row). */
export function restartDelay(crashes: number, b: Backoff = DEFAULT_BACKOFF): number {
  return Math.min(b.maxMs, b.initialMs * b.factor ** Math.max(0, crashes - 1));
}

export type ServiceHealth =
  | { state: 'starting' }
  | { state: 'running'; pid: number | undefined }
  /** it ended unasked; it is started again at `restartAt` */
  | { state: 'crashed'; crashes: number; exitCode: number | null; reason: string; restartAt: number }
  | { state: 'stopped' };

export interface RelayTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

const realTimers: RelayTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  now: () => Date.now(),
};

export interface RelayOptions {
  spawn: () => ServiceChild;
  /** the first message of every start (computed each time: the keychain may have become available) */
  init: () => InitMessage;
  log?: Logger;
  backoff?: Backoff;
  timers?: RelayTimers;
  /** how long stop() waits for the service to stop gracefully before killing it */
  stopTimeoutMs?: number;
}

type EventListener = (event: EventName, payload: unknown) => void;

const unavailable = (reason: string) =>
  err(
    'INTERNAL',
    `The backup service is not running: ${reason}.`,
    'It restarts by itself; try again in a moment.',
  );

export class ServiceRelay {
  private child: ServiceChild | undefined;
  private health: ServiceHealth = { state: 'stopped' };
  private nextId = 1;
  private readonly pending = new Map<number, (result: Result<unknown>) => void>();
  private readonly pongs = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  /** requests made while the process starts: sent once it is ready */
  private queue: ToService[] = [];
  private readonly eventListeners = new Set<EventListener>();
  private readonly healthListeners = new Set<(h: ServiceHealth) => void>();
  private crashes = 0;
  private startedAt = 0;
  private restartTimer: unknown;
  private stopping: Promise<void> | undefined;
  private readonly o: Required<Omit<RelayOptions, 'log'>> & { log: Logger };

  constructor(opts: RelayOptions) {
    this.o = {
      backoff: DEFAULT_BACKOFF,
      timers: realTimers,
      stopTimeoutMs: 15_000,
      log: () => {},
      ...opts,
    };
  }

  get status(): ServiceHealth {
    return this.health;
  }

  /** Starts the service process (once; restarts after a crash are the relay's own). */
  start(): void {
    if (this.child || this.stopping) return;
    this.launch();
  }

  /** Relays one contract request; never rejects (a service that is down answers a Result error). */
  call<C extends ChannelName>(channel: C, payload: unknown): Promise<Result<ResponseOf<C>>> {
    if (this.health.state === 'crashed') return Promise.resolve(unavailable(this.health.reason));
    if (this.health.state === 'stopped' || this.stopping)
      return Promise.resolve(unavailable('Bulwark is closing'));
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (r: Result<unknown>) => void);
      this.send({ type: 'request', id, channel, payload });
    });
  }

  /** Round trip through the service process, in milliseconds (rejects when the process is down). */
  ping(): Promise<number> {
    const t0 = performance.now();
    const id = this.nextId++;
    if (this.health.state !== 'running' && this.health.state !== 'starting')
      return Promise.reject(new Error(`the backup service is ${this.health.state}`));
    return new Promise((resolve, reject) => {
      this.pongs.set(id, { resolve: () => resolve(performance.now() - t0), reject });
      this.send({ type: 'ping', id });
    });
  }

  onEvent(listener: EventListener): () => void {
    this.eventListeners.add(listener);
    return () => void this.eventListeners.delete(listener);
  }

  onHealth(listener: (h: ServiceHealth) => void): () => void {
    this.healthListeners.add(listener);
    return () => void this.healthListeners.delete(listener);
  }

  /** Graceful stop (a running backup is interrupted and resumed by the next start); kills after a timeout. */
  stop(): Promise<void> {
    return (this.stopping ??= new Promise<void>((resolve) => {
      this.o.timers.clearTimeout(this.restartTimer);
      const child = this.child;
      if (!child) {
        this.setHealth({ state: 'stopped' });
        resolve();
        return;
      }
      const timer = this.o.timers.setTimeout(() => {
        this.o.log('the backup service did not stop in time: ending it');
        child.kill();
      }, this.o.stopTimeoutMs);
      child.onExit(() => {
        this.o.timers.clearTimeout(timer);
        resolve();
      });
      child.postMessage({ type: 'stop' });
    }));
  }

  // ---- internals ----

  private setHealth(h: ServiceHealth): void {
    this.health = h;
    for (const l of [...this.healthListeners]) {
      try {
        l(h);
      } catch (e) {
        this.o.log('a listener of the service health threw', e);
      }
    }
  }

  private send(message: ToService): void {
    if (this.health.state === 'running' && this.child) this.child.postMessage(message);
    else this.queue.push(message);
  }

  private launch(): void {
    this.setHealth({ state: 'starting' });
    let child: ServiceChild;
    try {
      child = this.o.spawn();
    } catch (e) {
      this.crashed(`it could not be started (${e instanceof Error ? e.message : String(e)})`, null);
      return;
    }
    this.child = child;
    this.startedAt = this.o.timers.now();
    let fatal: string | undefined;
    child.onMessage((raw) => {
      const m = parseFromService(raw);
      if (!m) {
        this.o.log('ignored a message from the backup service that is not part of the relay protocol', raw);
        return;
      }
      switch (m.type) {
        case 'ready': {
          this.setHealth({ state: 'running', pid: child.pid });
          const queued = this.queue;
          this.queue = [];
          for (const q of queued) child.postMessage(q);
          return;
        }
        case 'response': {
          const resolve = this.pending.get(m.id);
          this.pending.delete(m.id);
          resolve?.(m.result);
          return;
        }
        case 'pong': {
          const waiting = this.pongs.get(m.id);
          this.pongs.delete(m.id);
          waiting?.resolve();
          return;
        }
        case 'event':
          for (const l of [...this.eventListeners]) {
            try {
              l(m.event, m.payload);
            } catch (e) {
              this.o.log(`a listener of ${m.event} threw`, e);
            }
          }
          return;
        case 'fatal':
          fatal = m.message;
          this.o.log('the backup service failed', m.message);
          return;
        case 'stopped':
          return;
      }
    });
    try {
      child.postMessage(this.o.init());
    } catch (e) {
      this.o.log('could not prepare the start of the backup service', e);
      child.kill(); // its exit is handled as a crash: retried with backoff
    }
    child.onExit((code) => {
      if (this.child === child) this.child = undefined;
      if (this.stopping) {
        this.failPending('Bulwark is closing');
        this.setHealth({ state: 'stopped' });
        return;
      }
      const reason =
        fatal ??
        (code === null ? 'it was ended by the system' : `it stopped unexpectedly (exit code ${code})`);
      this.crashed(reason, code);
    });
  }

  private crashed(reason: string, exitCode: number | null): void {
    const ranFor = this.o.timers.now() - this.startedAt;
    this.crashes = ranFor >= this.o.backoff.healthyAfterMs ? 1 : this.crashes + 1;
    const delay = restartDelay(this.crashes, this.o.backoff);
    this.failPending(reason);
    this.o.log(`the backup service stopped: ${reason}; restarting in ${Math.round(delay / 1000)} s`);
    this.setHealth({
      state: 'crashed',
      crashes: this.crashes,
      exitCode,
      reason,
      restartAt: this.o.timers.now() + delay,
    });
    this.restartTimer = this.o.timers.setTimeout(() => {
      if (!this.stopping) this.launch();
    }, delay);
  }

  /** Answers every open request (and the queued ones) with the reason the service is gone. */
  private failPending(reason: string): void {
    const answer = unavailable(reason);
    for (const resolve of this.pending.values()) resolve(answer);
    this.pending.clear();
    for (const waiting of this.pongs.values()) waiting.reject(new Error(reason));
    this.pongs.clear();
    this.queue = [];
  }
}
