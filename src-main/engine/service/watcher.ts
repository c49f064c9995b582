import { statSync, type Stats } from 'node:fs';
import { watch, type ChokidarOptions } from 'chokidar';
import { systemClock, type Clock } from '../clock.ts';
import { realTimers, type Timers } from './timers.ts';

/**
 * The watcher of one source (DESIGN §4): file-system events are only hints.
 * They are batched until the source has been quiet for its quiet period and handed on as ONE change batch
 * (1 000 files written at once → one backup request). When watching fails (inotify limit ENOSPC, EMFILE,
 * the folder removed) the source falls back to polling, then to periodic rescans only, and the watcher is
 * restarted with exponential backoff: never a crash loop. The scheduled full rescan runs regardless.
 */

export type WatchMode = 'idle' | 'starting' | 'native' | 'polling' | 'rescan-only' | 'stopped';

export interface WatchCallbacks {
  onEvent(event: string, path: string): void;
  onError(error: unknown): void;
  onReady(): void;
}

export interface WatchHandle {
  close(): Promise<void>;
}

/** Starts watching; the default wraps chokidar. Tests pass a fake to inject failures. */
export type WatchFactory = (paths: string[], opts: ChokidarOptions, cb: WatchCallbacks) => WatchHandle;

export const chokidarFactory: WatchFactory = (paths, opts, cb) => {
  const w = watch(paths, opts);
  w.on('all', (event, path) => cb.onEvent(event, path));
  w.on('error', (e) => cb.onError(e));
  w.on('ready', () => cb.onReady());
  return w;
};

export interface WatchSpec {
  sourceId: string;
  /** absolute folders (or files) to watch */
  roots: string[];
  /** events are delivered once this long has passed without a new one */
  quietMs: number;
  /** paths never reported (exclude patterns, the service's own folders); isFile when known */
  ignore?: (path: string, isFile: boolean | undefined) => boolean;
}

export interface ChangeBatch {
  sourceId: string;
  /** events seen (a file written twice counts twice); 0 for a resync */
  count: number;
  /** up to 1 000 of the changed paths */
  sample: string[];
  /** the watcher was (re)started after a gap: changes may have been missed, rescan */
  resync: boolean;
  firstAt: number;
  lastAt: number;
}

export interface WatchError {
  code: string;
  message: string;
}

export interface WatchStatus {
  sourceId: string;
  mode: WatchMode;
  /** watching in a weaker mode than asked for, or not watching at all */
  degraded: boolean;
  since: number;
  lastError: WatchError | null;
  /** failed starts since the watcher was last healthy */
  failures: number;
  nextRetryAt: number | null;
  pendingChanges: number;
  missingRoots: string[];
}

export interface WatcherHooks {
  onBatch(batch: ChangeBatch): void;
  /** every file event as it arrives, before batching (the ransomware detectors: engine/signals) */
  onEvent?(event: string, path: string): void;
  onStatus?(status: WatchStatus, previous: WatchMode): void;
}

export interface WatcherOptions {
  factory?: WatchFactory;
  clock?: Clock;
  timers?: Timers;
  /** start with polling (network shares where native events do not arrive) */
  preferPolling?: boolean;
  /** polling period (default 5 s) */
  pollingIntervalMs?: number;
  /** first restart delay (default 1 s), doubled per failure up to backoffMaxMs (default 10 min) */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** a watcher up this long without an error counts as healthy again (default 60 s) */
  healthyAfterMs?: number;
  /** under constant churn a batch is still delivered after this long (default max(10 × quiet, 5 min)) */
  maxBatchDelayMs?: number;
}

const SAMPLE_LIMIT = 1000;
const RESOURCE_LIMITS = new Set(['ENOSPC', 'EMFILE', 'ENFILE']);

const errorCode = (e: unknown): string =>
  typeof (e as { code?: unknown } | undefined)?.code === 'string' ? (e as { code: string }).code : 'UNKNOWN';
const errorOf = (e: unknown): WatchError => ({
  code: errorCode(e),
  message: e instanceof Error ? e.message : String(e),
});

export class SourceWatcher {
  readonly sourceId: string;
  private spec: WatchSpec;
  private readonly hooks: WatcherHooks;
  private readonly factory: WatchFactory;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly preferPolling: boolean;
  private readonly pollingIntervalMs: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly healthyAfterMs: number;
  private readonly maxBatchDelayMs: number;

  private mode: WatchMode = 'idle';
  private since: number;
  private handle: WatchHandle | undefined;
  /** bumped on every (re)start: callbacks of an older handle are ignored */
  private generation = 0;
  private lastError: WatchError | null = null;
  private failures = 0;
  private nextRetryAt: number | null = null;
  private missingRoots: string[] = [];
  private retryTimer: unknown;
  private healthyTimer: unknown;
  private quietTimer: unknown;
  private pending: { count: number; sample: Set<string>; firstAt: number; lastAt: number } | undefined;
  private readyWaiters: (() => void)[] = [];
  private needResync = false;

  constructor(spec: WatchSpec, hooks: WatcherHooks, opts: WatcherOptions = {}) {
    this.sourceId = spec.sourceId;
    this.spec = spec;
    this.hooks = hooks;
    this.factory = opts.factory ?? chokidarFactory;
    this.clock = opts.clock ?? systemClock;
    this.timers = opts.timers ?? realTimers;
    this.preferPolling = opts.preferPolling ?? false;
    this.pollingIntervalMs = opts.pollingIntervalMs ?? 5_000;
    this.backoffInitialMs = opts.backoffInitialMs ?? 1_000;
    this.backoffMaxMs = opts.backoffMaxMs ?? 600_000;
    this.healthyAfterMs = opts.healthyAfterMs ?? 60_000;
    this.maxBatchDelayMs = opts.maxBatchDelayMs ?? Math.max(10 * spec.quietMs, 300_000);
    this.since = this.now();
  }

  status(): WatchStatus {
    const wanted: WatchMode = this.preferPolling ? 'polling' : 'native';
    return {
      sourceId: this.sourceId,
      mode: this.mode,
      degraded: this.mode === 'rescan-only' || (this.mode === 'polling' && wanted === 'native'),
      since: this.since,
      lastError: this.lastError,
      failures: this.failures,
      nextRetryAt: this.nextRetryAt,
      pendingChanges: this.pending?.count ?? 0,
      missingRoots: [...this.missingRoots],
    };
  }

  /** Starts watching; resolves once the watcher is ready or has fallen back (it never rejects). */
  start(): Promise<void> {
    if (this.mode === 'stopped') return Promise.resolve();
    this.attempt(this.preferPolling ? 'polling' : 'native');
    return this.whenSettled();
  }

  /** Resolves when the watcher is not (re)starting. */
  whenSettled(): Promise<void> {
    if (this.mode !== 'starting') return Promise.resolve();
    return new Promise((r) => this.readyWaiters.push(r));
  }

  /** Stops for good: pending changes are dropped (the next rescan finds them). */
  async stop(): Promise<void> {
    this.setMode('stopped');
    this.generation++;
    this.clearTimers();
    this.pending = undefined;
    const h = this.handle;
    this.handle = undefined;
    await h?.close().catch(() => undefined);
    this.settleWaiters();
  }

  /** Delivers the pending batch now (if any). */
  flush(): void {
    if (this.quietTimer !== undefined) this.timers.clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
    const p = this.pending;
    this.pending = undefined;
    const resync = this.needResync;
    this.needResync = false;
    if (!p && !resync) return;
    const now = this.now();
    this.hooks.onBatch({
      sourceId: this.sourceId,
      count: p?.count ?? 0,
      sample: p ? [...p.sample] : [],
      resync,
      firstAt: p?.firstAt ?? now,
      lastAt: p?.lastAt ?? now,
    });
  }

  // ---- internals -------------------------------------------------------------------------------------

  private now(): number {
    return this.clock.now().getTime();
  }

  private setMode(mode: WatchMode): void {
    if (this.mode === mode) return;
    const previous = this.mode;
    this.mode = mode;
    this.since = this.now();
    if (mode !== 'starting') this.settleWaiters();
    this.hooks.onStatus?.(this.status(), previous);
  }

  private settleWaiters(): void {
    const w = this.readyWaiters;
    this.readyWaiters = [];
    for (const r of w) r();
  }

  private clearTimers(): void {
    for (const t of [this.retryTimer, this.healthyTimer, this.quietTimer])
      if (t !== undefined) this.timers.clearTimeout(t);
    this.retryTimer = this.healthyTimer = this.quietTimer = undefined;
    this.nextRetryAt = null;
  }

  private attempt(backend: 'native' | 'polling'): void {
    if (this.mode === 'stopped') return;
    this.nextRetryAt = null;
    const missing = this.spec.roots.filter((r) => !exists(r));
    if (missing.length > 0) {
      this.missingRoots = missing;
      this.fail(
        { code: 'ENOENT', message: `not found: ${missing.join(', ')}` },
        'rescan-only',
        /* lostChanges */ false,
      );
      return;
    }
    if (this.missingRoots.length > 0) {
      // the folder is back: whatever it holds now must be compared with the last snapshot
      this.missingRoots = [];
      this.needResync = true;
    }
    const gen = ++this.generation;
    const previous = this.handle;
    this.handle = undefined;
    void previous?.close().catch(() => undefined);
    this.setMode('starting');
    const ignore = this.spec.ignore;
    const roots = new Set(this.spec.roots);
    const opts: ChokidarOptions = {
      ignoreInitial: true,
      awaitWriteFinish: false,
      persistent: true,
      ignorePermissionErrors: true,
      backend: backend === 'polling' ? 'polling' : 'auto',
      pollingInterval: this.pollingIntervalMs,
      pollingBinaryInterval: this.pollingIntervalMs,
      ...(ignore
        ? {
            ignored: (p: string, stats?: Stats) =>
              !roots.has(p) && ignore(p, stats ? stats.isFile() : undefined),
          }
        : {}),
    };
    const cb: WatchCallbacks = {
      onEvent: (event, path) => {
        if (gen === this.generation) this.onEvent(event, path);
      },
      onError: (e) => {
        if (gen === this.generation) this.onError(e, backend);
      },
      onReady: () => {
        if (gen !== this.generation) return;
        this.setMode(backend);
        if (this.needResync) this.flush();
        if (this.healthyTimer !== undefined) this.timers.clearTimeout(this.healthyTimer);
        this.healthyTimer = this.timers.setTimeout(() => {
          this.healthyTimer = undefined;
          if (gen === this.generation) this.failures = 0;
        }, this.healthyAfterMs);
      },
    };
    try {
      this.handle = this.factory([...this.spec.roots], opts, cb);
    } catch (e) {
      this.onError(e, backend);
    }
  }

  private onEvent(event: string, path: string): void {
    if (this.mode === 'stopped') return;
    if ((event === 'unlinkDir' || event === 'unlink') && this.spec.roots.includes(path)) {
      // A source folder disappeared (drive unplugged, folder moved): its deletions are not a change to
      // back up. Wait for it with backoff; rescans report the failure meanwhile.
      this.pending = undefined;
      if (this.quietTimer !== undefined) this.timers.clearTimeout(this.quietTimer);
      this.quietTimer = undefined;
      this.missingRoots = [path];
      this.fail({ code: 'ENOENT', message: `${path} was removed` }, 'rescan-only', false);
      return;
    }
    this.hooks.onEvent?.(event, path);
    const now = this.now();
    const p = (this.pending ??= { count: 0, sample: new Set(), firstAt: now, lastAt: now });
    p.count++;
    p.lastAt = now;
    if (p.sample.size < SAMPLE_LIMIT) p.sample.add(path);
    if (now - p.firstAt >= this.maxBatchDelayMs) {
      this.flush();
      return;
    }
    if (this.quietTimer !== undefined) this.timers.clearTimeout(this.quietTimer);
    this.quietTimer = this.timers.setTimeout(() => {
      this.quietTimer = undefined;
      this.flush();
    }, this.spec.quietMs);
  }

  private onError(e: unknown, backend: 'native' | 'polling'): void {
    if (this.mode === 'stopped') return;
    const err = errorOf(e);
    if (err.code === 'ENOENT' && this.spec.roots.some((r) => !exists(r))) {
      this.missingRoots = this.spec.roots.filter((r) => !exists(r));
      this.fail(err, 'rescan-only', false);
      return;
    }
    if (backend === 'native' && RESOURCE_LIMITS.has(err.code)) {
      // Out of inotify watches or file descriptors: polling needs neither. Changes of the gap are
      // found by the resync once it is ready.
      this.lastError = err;
      this.needResync = true;
      this.attempt('polling');
      return;
    }
    this.fail(err, 'rescan-only', true);
  }

  /** Stops the current handle, reports the degraded mode and retries later with exponential backoff. */
  private fail(err: WatchError, mode: 'rescan-only', lostChanges: boolean): void {
    this.lastError = err;
    this.failures++;
    this.generation++;
    if (lostChanges) this.needResync = true;
    const h = this.handle;
    this.handle = undefined;
    void h?.close().catch(() => undefined);
    if (this.healthyTimer !== undefined) this.timers.clearTimeout(this.healthyTimer);
    this.healthyTimer = undefined;
    const delay = Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** Math.min(this.failures - 1, 30));
    this.nextRetryAt = this.now() + delay;
    if (this.mode === mode) this.hooks.onStatus?.(this.status(), mode);
    else this.setMode(mode);
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      this.attempt(this.preferPolling ? 'polling' : 'native');
    }, delay);
  }
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}
