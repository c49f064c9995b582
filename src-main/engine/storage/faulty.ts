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
} from './types.ts';

export type FaultyMethod = 'put' | 'get' | 'head' | 'list' | 'delete' | 'extendRetention';

/**
 * When a planned fault fires:
 * - 'before': the call fails without reaching the wrapped store (e.g. connection refused);
 * - 'after': the wrapped store performs the call, then the caller still sees the error (e.g. a timeout
 *   after the server stored the object, so a retried put meets ALREADY_EXISTS). For list, the error is
 *   thrown once the wrapped listing has been yielded completely.
 */
export type FaultTiming = 'before' | 'after';

interface PlannedFault {
  error: () => Error;
  remaining: number;
  timing: FaultTiming;
}

export interface FaultyStoreOptions {
  /** wait this long before every call (real time) */
  delayMs?: number;
  /** seed of the PRNG behind failRandomly (same seed, same sequence of calls: same faults) */
  seed?: number;
}

const ALL_METHODS: readonly FaultyMethod[] = ['put', 'get', 'head', 'list', 'delete', 'extendRetention'];

/**
 * Wraps a BlobStore and injects failures, to test retry layers and crash paths:
 *   store.failNext('put', new BulwarkError('NETWORK', 'reset'), 2);
 *   store.failRandomly(0.1, () => new BulwarkError('NETWORK', 'flaky'), ['get']);
 */
export class FaultyStore implements BlobStore {
  readonly inner: BlobStore;
  readonly location: string;
  readonly capabilities: StoreCapabilities;
  delayMs: number;
  /** calls received per method (including failed ones) */
  readonly calls: Record<FaultyMethod, number> = emptyCounts();
  /** faults injected per method */
  readonly faults: Record<FaultyMethod, number> = emptyCounts();
  private readonly planned = new Map<FaultyMethod, PlannedFault[]>();
  private random: { rate: number; error: () => Error; methods: ReadonlySet<FaultyMethod> } | undefined;
  private prng: () => number;

  /** the wrapped store's version access, with the same faults as the plain calls (get, head, ...) */
  readonly versions?: VersionedAccess;

  constructor(inner: BlobStore, opts: FaultyStoreOptions = {}) {
    this.inner = inner;
    this.location = inner.location;
    this.capabilities = inner.capabilities;
    const v = inner.versions;
    if (v) {
      const faulty = async <T>(method: FaultyMethod, call: () => Promise<T>): Promise<T> => {
        const after = await this.enter(method);
        const out = await call();
        this.leave(method, after);
        return out;
      };
      const enter = (m: FaultyMethod): Promise<(() => Error) | undefined> => this.enter(m);
      const leave = (m: FaultyMethod, after: (() => Error) | undefined): void => this.leave(m, after);
      this.versions = {
        async *listVersions(prefix, signal) {
          const after = await enter('list');
          yield* v.listVersions(prefix, signal);
          leave('list', after);
        },
        getVersion: (name, id, range, signal) => faulty('get', () => v.getVersion(name, id, range, signal)),
        headVersion: (name, id) => faulty('head', () => v.headVersion(name, id)),
        deleteVersion: (name, id) => faulty('delete', () => v.deleteVersion(name, id)),
        ...(v.extendRetentionVersion
          ? {
              extendRetentionVersion: (name: string, id: string, until: Date, mode: LockMode) =>
                faulty('extendRetention', () => v.extendRetentionVersion!(name, id, until, mode)),
            }
          : {}),
        ...(v.setLegalHoldVersion
          ? {
              setLegalHoldVersion: (name: string, id: string, on: boolean) =>
                v.setLegalHoldVersion!(name, id, on),
            }
          : {}),
      };
    }
    this.delayMs = opts.delayMs ?? 0;
    this.prng = mulberry32(opts.seed ?? 1);
  }

  /** The next `times` calls of `method` fail with `error` (queued after faults already planned). */
  failNext(
    method: FaultyMethod,
    error: Error | (() => Error),
    times = 1,
    timing: FaultTiming = 'before',
  ): this {
    if (!Number.isInteger(times) || times < 1) {
      throw new BulwarkError('INVALID_ARGUMENT', `failNext: times must be a positive integer, got ${times}`);
    }
    const queue = this.planned.get(method) ?? [];
    queue.push({ error: typeof error === 'function' ? error : () => error, remaining: times, timing });
    this.planned.set(method, queue);
    return this;
  }

  /**
   * From now on each call of `methods` (default: all) fails with probability `rate`, before reaching the
   * wrapped store. `seed` restarts the PRNG. rate 0 turns random faults off.
   */
  failRandomly(rate: number, error: () => Error, methods?: readonly FaultyMethod[], seed?: number): this {
    if (!(rate >= 0 && rate <= 1)) {
      throw new BulwarkError('INVALID_ARGUMENT', `failRandomly: rate must be in [0, 1], got ${rate}`);
    }
    if (seed !== undefined) this.prng = mulberry32(seed);
    this.random = rate === 0 ? undefined : { rate, error, methods: new Set(methods ?? ALL_METHODS) };
    return this;
  }

  /** Drops every planned and random fault. */
  clearFaults(): void {
    this.planned.clear();
    this.random = undefined;
  }

  /** planned faults not yet fired for `method` */
  pendingFaults(method: FaultyMethod): number {
    return (this.planned.get(method) ?? []).reduce((n, f) => n + f.remaining, 0);
  }

  async put(name: string, body: PutBody, opts?: PutOptions): Promise<PutResult> {
    const after = await this.enter('put');
    const out = await this.inner.put(name, body, opts);
    this.leave('put', after);
    return out;
  }

  async get(name: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    const after = await this.enter('get');
    const out = await this.inner.get(name, range, signal);
    this.leave('get', after);
    return out;
  }

  async head(name: string): Promise<ObjectInfo> {
    const after = await this.enter('head');
    const info = await this.inner.head(name);
    this.leave('head', after);
    return info;
  }

  async *list(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    const after = await this.enter('list');
    yield* this.inner.list(prefix, signal);
    this.leave('list', after);
  }

  async delete(name: string): Promise<void> {
    const after = await this.enter('delete');
    await this.inner.delete(name);
    this.leave('delete', after);
  }

  async extendRetention(name: string, retainUntil: Date, mode: LockMode): Promise<void> {
    const after = await this.enter('extendRetention');
    if (!this.inner.extendRetention) {
      throw new BulwarkError('UNSUPPORTED', `${this.location} cannot extend retention`);
    }
    await this.inner.extendRetention(name, retainUntil, mode);
    this.leave('extendRetention', after);
  }

  serverTime(): Promise<Date> {
    return this.inner.serverTime();
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  /** Counts the call, waits delayMs, throws a 'before' fault; returns an 'after' fault to throw later. */
  private async enter(method: FaultyMethod): Promise<(() => Error) | undefined> {
    this.calls[method]++;
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const queue = this.planned.get(method);
    const fault = queue?.[0];
    if (queue && fault) {
      fault.remaining--;
      if (fault.remaining <= 0) queue.shift();
      if (fault.timing === 'after') return fault.error;
      this.faults[method]++;
      throw fault.error();
    }
    const random = this.random;
    if (random && random.methods.has(method) && this.prng() < random.rate) {
      this.faults[method]++;
      throw random.error();
    }
    return undefined;
  }

  private leave(method: FaultyMethod, after: (() => Error) | undefined): void {
    if (!after) return;
    this.faults[method]++;
    throw after();
  }
}

function emptyCounts(): Record<FaultyMethod, number> {
  return { put: 0, get: 0, head: 0, list: 0, delete: 0, extendRetention: 0 };
}

/** Small seeded PRNG (mulberry32): deterministic fault patterns across runs. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
