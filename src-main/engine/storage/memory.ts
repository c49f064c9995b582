import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import { systemClock, type Clock } from '../clock.ts';
import { BulwarkError, fromSystemError, throwIfAborted } from '../errors.ts';
import {
  assertValidName,
  type BlobStore,
  type ByteRange,
  type LockMode,
  type ObjectInfo,
  type PutBody,
  type PutOptions,
  type StoreCapabilities,
} from './types.ts';

/**
 * Counters a store keeps so tests can check how much work a layer above did (successful operations only:
 * a put refused with ALREADY_EXISTS or a get of a missing name is not counted).
 */
export interface StoreStats {
  puts: number;
  gets: number;
  heads: number;
  deletes: number;
  lists: number;
  extends: number;
  bytesPut: number;
  bytesGot: number;
}

export function emptyStats(): StoreStats {
  return { puts: 0, gets: 0, heads: 0, deletes: 0, lists: 0, extends: 0, bytesPut: 0, bytesGot: 0 };
}

interface StoredObject {
  data: Buffer;
  modified: Date;
  retainUntil?: Date;
  lockMode?: LockMode;
}

let memoryStoreCounter = 0;

/**
 * In-memory BlobStore for tests. It models S3 Object Lock so retention logic can be tested with a
 * FakeClock: an object put with `retainUntil` cannot be deleted before that date (LOCKED), retention can
 * only be lengthened, and a COMPLIANCE lock can never be weakened.
 */
export class MemoryStore implements BlobStore {
  readonly location: string;
  readonly capabilities: StoreCapabilities = { enforcedLocks: true, extendRetention: true, legalHold: false };
  readonly stats: StoreStats = emptyStats();
  private readonly clock: Clock;
  private readonly objects = new Map<string, StoredObject>();

  constructor(opts: { clock?: Clock; location?: string } = {}) {
    this.clock = opts.clock ?? systemClock;
    this.location = opts.location ?? `memory://store-${++memoryStoreCounter}`;
  }

  /** number of objects held (test helper) */
  get size(): number {
    return this.objects.size;
  }

  async put(name: string, body: PutBody, opts: PutOptions = {}): Promise<void> {
    assertValidName(name);
    throwIfAborted(opts.signal);
    const now = this.clock.now();
    const lock = retentionFromOptions(opts, now);
    if (this.objects.has(name)) throw alreadyExists(name);
    let data: Buffer;
    if (body instanceof Uint8Array) {
      data = Buffer.from(body); // copy: the caller may reuse its buffer
    } else {
      try {
        data = await readFile(body.path, { signal: opts.signal });
      } catch (e) {
        if ((e as { name?: string } | undefined)?.name === 'AbortError') throwIfAborted(opts.signal);
        throw fromSystemError(e, `reading ${body.path}`);
      }
      if (data.length !== body.size) {
        throw new BulwarkError(
          'INVALID_ARGUMENT',
          `put ${name}: file ${body.path} has ${data.length} bytes, the caller said ${body.size}`,
        );
      }
    }
    if (opts.contentMd5 !== undefined) {
      const md5 = createHash('md5').update(data).digest('base64');
      if (md5 !== opts.contentMd5) {
        throw new BulwarkError('CORRUPT', `put ${name}: the body does not match its Content-MD5`);
      }
    }
    throwIfAborted(opts.signal);
    // re-check: another put of the same name may have finished while the file was read
    if (this.objects.has(name)) throw alreadyExists(name);
    const obj: StoredObject = { data, modified: now };
    if (lock) {
      obj.retainUntil = lock.retainUntil;
      obj.lockMode = lock.mode;
    }
    this.objects.set(name, obj);
    this.stats.puts++;
    this.stats.bytesPut += data.length;
  }

  async get(name: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    assertValidName(name);
    throwIfAborted(signal);
    const obj = this.mustGet(name);
    let out: Buffer;
    if (range === undefined) {
      out = Buffer.from(obj.data);
    } else {
      checkRange(name, range, obj.data.length);
      out = Buffer.from(obj.data.subarray(range.offset, range.offset + range.length));
    }
    this.stats.gets++;
    this.stats.bytesGot += out.length;
    return out;
  }

  async head(name: string): Promise<ObjectInfo> {
    assertValidName(name);
    const obj = this.mustGet(name);
    this.stats.heads++;
    const info: ObjectInfo = { name, size: obj.data.length, modified: new Date(obj.modified) };
    if (obj.retainUntil) {
      info.retainUntil = new Date(obj.retainUntil);
      info.lockMode = obj.lockMode ?? 'COMPLIANCE';
    }
    return info;
  }

  async *list(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    throwIfAborted(signal);
    // snapshot, so puts and deletes during the iteration cannot make a name appear twice
    const found: ObjectInfo[] = [];
    for (const [name, obj] of this.objects) {
      if (name.startsWith(prefix)) {
        found.push({ name, size: obj.data.length, modified: new Date(obj.modified) });
      }
    }
    this.stats.lists++;
    for (const info of found) {
      throwIfAborted(signal);
      yield info;
    }
  }

  async delete(name: string): Promise<void> {
    assertValidName(name);
    const obj = this.objects.get(name);
    if (!obj) return;
    const now = this.clock.now();
    if (obj.retainUntil && obj.retainUntil.getTime() > now.getTime()) {
      throw new BulwarkError(
        'LOCKED',
        `${name} is locked (${obj.lockMode ?? 'COMPLIANCE'}) until ${obj.retainUntil.toISOString()}`,
        { hint: 'Objects under retention can be deleted only after their retention date.' },
      );
    }
    this.objects.delete(name);
    this.stats.deletes++;
  }

  /**
   * Mirrors S3 PutObjectRetention without a governance bypass: an active lock may be lengthened (or
   * GOVERNANCE turned into COMPLIANCE) but never shortened or weakened (LOCKED); repeating the current
   * retention is a no-op. An expired lock can be replaced freely.
   */
  async extendRetention(name: string, retainUntil: Date, mode: LockMode): Promise<void> {
    assertValidName(name);
    const obj = this.mustGet(name);
    const now = this.clock.now();
    if (!(retainUntil.getTime() > now.getTime())) {
      throw new BulwarkError(
        'INVALID_ARGUMENT',
        `retention date ${retainUntil.toISOString()} for ${name} is not in the future`,
      );
    }
    const active = obj.retainUntil !== undefined && obj.retainUntil.getTime() > now.getTime();
    if (active && obj.retainUntil) {
      const current = obj.lockMode ?? 'COMPLIANCE';
      if (retainUntil.getTime() < obj.retainUntil.getTime()) {
        throw new BulwarkError(
          'LOCKED',
          `${name} is locked (${current}) until ${obj.retainUntil.toISOString()}; retention cannot be shortened`,
        );
      }
      if (current === 'COMPLIANCE' && mode === 'GOVERNANCE') {
        throw new BulwarkError(
          'LOCKED',
          `${name} is locked in COMPLIANCE mode until ${obj.retainUntil.toISOString()}; it cannot be weakened to GOVERNANCE`,
        );
      }
    }
    obj.retainUntil = new Date(retainUntil);
    obj.lockMode = mode;
    this.stats.extends++;
  }

  async serverTime(): Promise<Date> {
    return this.clock.now();
  }

  /** Like a bucket created with Object Lock (which turns versioning on): repositories may use locks. */
  async lockSupport(): Promise<{ versioning: string; objectLock: boolean }> {
    return { versioning: 'Enabled', objectLock: true };
  }

  private mustGet(name: string): StoredObject {
    const obj = this.objects.get(name);
    if (!obj) throw new BulwarkError('NOT_FOUND', `${name}: not found`);
    return obj;
  }
}

function alreadyExists(name: string): BulwarkError {
  return new BulwarkError('ALREADY_EXISTS', `${name}: already exists`);
}

/** S3 requires a retention date in the future; a missing mode defaults to the stricter COMPLIANCE. */
function retentionFromOptions(
  opts: PutOptions,
  now: Date,
): { retainUntil: Date; mode: LockMode } | undefined {
  if (opts.retainUntil === undefined) return undefined;
  if (!(opts.retainUntil.getTime() > now.getTime())) {
    throw new BulwarkError(
      'INVALID_ARGUMENT',
      `retention date ${opts.retainUntil.toISOString()} is not in the future`,
    );
  }
  return { retainUntil: new Date(opts.retainUntil), mode: opts.lockMode ?? 'COMPLIANCE' };
}

/** The whole range must lie inside the object (a zero-length range at the end is allowed). */
export function checkRange(name: string, range: ByteRange, size: number): void {
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new BulwarkError('INVALID_ARGUMENT', `invalid range ${JSON.stringify(range)} for ${name}`);
  }
  if (offset + length > size) {
    throw new BulwarkError(
      'INVALID_ARGUMENT',
      `range ${offset}+${length} is past the end of ${name} (${size} bytes)`,
    );
  }
}
