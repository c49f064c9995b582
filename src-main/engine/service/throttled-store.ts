import { BulwarkError } from '../errors.ts';
import type {
  BlobStore,
  ByteRange,
  LockMode,
  ObjectInfo,
  PutBody,
  PutOptions,
  PutResult,
  StoreCapabilities,
  VersionedAccess,
} from '../storage/types.ts';
import { realTimers, sleep, type Timers } from './timers.ts';

export interface TokenBucketOptions {
  /** bytes that may pass at once after a pause (default: a quarter second's worth, at least 64 KiB) */
  burstBytes?: number;
  /**
   * Monotonic milliseconds. Pacing is about real elapsed time, not the wall clock the engine injects
   * (a FakeClock that never moves would stop all traffic), hence performance.now() by default.
   */
  now?: () => number;
  timers?: Timers;
}

/**
 * A token bucket in reservation form: `take(n)` subtracts n tokens at once (the balance may go negative)
 * and waits until the debt is paid back at `bytesPerSecond`. Callers are served in the order they asked;
 * a caller that gives up (signal) gets its tokens back. One bucket is shared by every job on a target.
 */
export class TokenBucket {
  private ratePerMs: number;
  private burst: number;
  private tokens: number;
  private last: number;
  private readonly now: () => number;
  private readonly timers: Timers;
  private readonly fixedBurst: number | undefined;

  /** `bytesPerSecond` null: unlimited (until setRate). */
  constructor(bytesPerSecond: number | null, opts: TokenBucketOptions = {}) {
    this.now = opts.now ?? (() => performance.now());
    this.timers = opts.timers ?? realTimers;
    this.fixedBurst = opts.burstBytes;
    this.ratePerMs = Infinity;
    this.burst = Infinity;
    this.tokens = 0;
    this.last = this.now();
    this.setRate(bytesPerSecond);
  }

  /** null: unlimited */
  get bytesPerSecond(): number | null {
    return this.ratePerMs === Infinity ? null : this.ratePerMs * 1000;
  }

  /** Changes the rate (e.g. the user edited the target); null: unlimited. Waits already computed stay. */
  setRate(bytesPerSecond: number | null): void {
    if (bytesPerSecond === null || bytesPerSecond === Infinity) {
      this.ratePerMs = Infinity;
      this.burst = Infinity;
      return;
    }
    if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0)
      throw new BulwarkError(
        'INVALID_ARGUMENT',
        `bytesPerSecond must be a positive number (${bytesPerSecond})`,
      );
    const wasUnlimited = this.ratePerMs === Infinity;
    this.ratePerMs = bytesPerSecond / 1000;
    this.burst = this.fixedBurst ?? Math.max(64 * 1024, Math.floor(bytesPerSecond / 4));
    if (wasUnlimited) this.tokens = this.burst;
    this.tokens = Math.min(this.tokens, this.burst);
  }

  get unlimited(): boolean {
    return this.ratePerMs === Infinity;
  }

  /** Resolves when `n` bytes may pass; rejects with CANCELED if `signal` aborts first. */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    if (n <= 0 || this.ratePerMs === Infinity) return;
    if (signal?.aborted) throw new BulwarkError('CANCELED', 'the operation was canceled');
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.ratePerMs);
    this.last = now;
    this.tokens -= n;
    if (this.tokens >= 0) return;
    const waitMs = -this.tokens / this.ratePerMs;
    try {
      await sleep(waitMs, signal, this.timers);
    } catch (e) {
      this.tokens += n;
      throw e;
    }
  }
}

const bodySize = (body: PutBody): number => (body instanceof Uint8Array ? body.byteLength : body.size);

/**
 * A BlobStore limited to a bandwidth: a put waits for its bytes before it starts, a get's bytes are paid
 * after they arrived (so the next transfer waits). Over time the traffic stays at the bucket's rate; a
 * single object still moves at the link's speed (the adapters stream files themselves), so the rate is an
 * average over a few objects, not a smooth line. Metadata calls (head, list, delete) are not limited.
 */
export class ThrottledStore implements BlobStore {
  readonly inner: BlobStore;
  readonly bucket: TokenBucket;
  readonly extendRetention?: (name: string, retainUntil: Date, mode: LockMode) => Promise<void>;
  readonly setLegalHold?: (name: string, on: boolean) => Promise<void>;
  readonly lockSupport?: () => Promise<{
    versioning: string;
    objectLock: boolean;
    defaultRetention?: string;
  }>;
  readonly close?: () => Promise<void>;
  readonly prefetchListings?: (prefixes: readonly string[]) => void;
  /** the inner store's version access: reads paid in bandwidth like get, failures seen like the rest */
  readonly versions?: VersionedAccess;

  private readonly onError: ((e: unknown) => void) | undefined;

  /** `onError` sees every failure of the inner store (the service uses it to tell target failures apart). */
  constructor(inner: BlobStore, bucket: TokenBucket, opts: { onError?: (e: unknown) => void } = {}) {
    this.inner = inner;
    this.bucket = bucket;
    this.onError = opts.onError;
    const { extendRetention, setLegalHold, lockSupport, close, prefetchListings } = inner;
    if (extendRetention)
      this.extendRetention = (name, retainUntil, mode) =>
        this.watch(extendRetention.call(inner, name, retainUntil, mode));
    if (setLegalHold) this.setLegalHold = (name, on) => this.watch(setLegalHold.call(inner, name, on));
    if (lockSupport) this.lockSupport = () => this.watch(lockSupport.call(inner));
    if (close) this.close = () => close.call(inner);
    // listings carry no file bytes: nothing to take from the bucket (their pages come through listVersions)
    if (prefetchListings) this.prefetchListings = (prefixes) => prefetchListings.call(inner, prefixes);
    const v = inner.versions;
    if (v) {
      const onError = this.onError;
      this.versions = {
        async *listVersions(prefix, signal) {
          try {
            yield* v.listVersions(prefix, signal);
          } catch (e) {
            onError?.(e);
            throw e;
          }
        },
        getVersion: async (name, id, range, signal) => {
          const data = await this.watch(v.getVersion(name, id, range, signal));
          await this.bucket.take(data.length, signal);
          return data;
        },
        headVersion: (name, id) => this.watch(v.headVersion(name, id)),
        deleteVersion: (name, id) => this.watch(v.deleteVersion(name, id)),
        ...(v.extendRetentionVersion
          ? {
              extendRetentionVersion: (name: string, id: string, until: Date, mode: LockMode) =>
                this.watch(v.extendRetentionVersion!(name, id, until, mode)),
            }
          : {}),
        ...(v.setLegalHoldVersion
          ? {
              setLegalHoldVersion: (name: string, id: string, on: boolean) =>
                this.watch(v.setLegalHoldVersion!(name, id, on)),
            }
          : {}),
      };
    }
  }

  get location(): string {
    return this.inner.location;
  }

  get capabilities(): StoreCapabilities {
    return this.inner.capabilities;
  }

  private async watch<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      this.onError?.(e);
      throw e;
    }
  }

  async put(name: string, body: PutBody, opts?: PutOptions): Promise<PutResult> {
    await this.bucket.take(bodySize(body), opts?.signal);
    return this.watch(this.inner.put(name, body, opts));
  }

  async get(name: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    const data = await this.watch(this.inner.get(name, range, signal));
    await this.bucket.take(data.length, signal);
    return data;
  }

  head(name: string): Promise<ObjectInfo> {
    return this.watch(this.inner.head(name));
  }

  async *list(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    try {
      yield* this.inner.list(prefix, signal);
    } catch (e) {
      this.onError?.(e);
      throw e;
    }
  }

  delete(name: string): Promise<void> {
    return this.watch(this.inner.delete(name));
  }

  serverTime(): Promise<Date> {
    return this.watch(this.inner.serverTime());
  }
}
