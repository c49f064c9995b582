import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import { systemClock, type Clock } from '../clock.ts';
import { BulwarkError, fromSystemError, throwIfAborted } from '../errors.ts';
import {
  assertValidName,
  assertValidRange,
  type BlobStore,
  type ByteRange,
  type LockMode,
  type ObjectInfo,
  type ObjectVersion,
  type PutBody,
  type PutOptions,
  type PutResult,
  type StoreCapabilities,
  type VersionedAccess,
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

interface StoredVersion {
  versionId: string;
  /** undefined: a delete marker */
  data?: Buffer;
  modified: Date;
  retainUntil?: Date;
  lockMode?: LockMode;
  legalHold?: boolean;
}

let memoryStoreCounter = 0;

/**
 * In-memory BlobStore for tests. It models an S3 bucket with Object Lock (hence versioning) so retention
 * and tampering logic can be tested with a FakeClock: an object version put with `retainUntil` cannot be
 * deleted before that date (LOCKED), retention can only be lengthened, a COMPLIANCE lock can never be
 * weakened, and a legal hold keeps a version whatever its date. Bulwark's own `put` is write-once (as the
 * S3 adapter checks before it writes); `forgeVersion` and `placeDeleteMarker` do what a raw PutObject /
 * DeleteObject by whoever holds the keys does: a new current version over any name, a delete marker.
 */
export class MemoryStore implements BlobStore {
  readonly location: string;
  readonly capabilities: StoreCapabilities = { enforcedLocks: true, extendRetention: true, legalHold: true };
  readonly stats: StoreStats = emptyStats();
  private readonly clock: Clock;
  /** per name, oldest version first */
  private readonly objects = new Map<string, StoredVersion[]>();
  private versionCounter = 0;

  constructor(opts: { clock?: Clock; location?: string } = {}) {
    this.clock = opts.clock ?? systemClock;
    this.location = opts.location ?? `memory://store-${++memoryStoreCounter}`;
  }

  /** number of names whose current version holds data (test helper) */
  get size(): number {
    let n = 0;
    for (const versions of this.objects.values()) if (versions.at(-1)?.data) n++;
    return n;
  }

  async put(name: string, body: PutBody, opts: PutOptions = {}): Promise<PutResult> {
    assertValidName(name);
    throwIfAborted(opts.signal);
    const now = this.clock.now();
    const lock = retentionFromOptions(opts, now);
    if (this.current(name)) throw alreadyExists(name);
    const data = await readBody(name, body, opts);
    throwIfAborted(opts.signal);
    // re-check: another put of the same name may have finished while the file was read
    if (this.current(name)) throw alreadyExists(name);
    const v = this.addVersion(name, data, now, lock);
    this.stats.puts++;
    this.stats.bytesPut += data.length;
    return { versionId: v.versionId };
  }

  /**
   * What a raw PutObject by whoever holds the keys does: a new current version over `name` (existing or
   * not), older versions untouched. Returns its version id.
   */
  forgeVersion(
    name: string,
    data: Uint8Array,
    opts: Pick<PutOptions, 'retainUntil' | 'lockMode'> = {},
  ): string {
    assertValidName(name);
    const now = this.clock.now();
    return this.addVersion(name, Buffer.from(data), now, retentionFromOptions(opts, now)).versionId;
  }

  /** What a DeleteObject without a version id does on a versioned bucket: a delete marker on top. */
  placeDeleteMarker(name: string): string {
    assertValidName(name);
    const v: StoredVersion = { versionId: this.nextVersionId(), modified: this.clock.now() };
    const list = this.objects.get(name) ?? [];
    list.push(v);
    this.objects.set(name, list);
    return v.versionId;
  }

  async get(name: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    assertValidName(name);
    throwIfAborted(signal);
    return this.readVersion(name, this.mustGet(name), range);
  }

  async head(name: string): Promise<ObjectInfo> {
    assertValidName(name);
    const v = this.mustGet(name);
    this.stats.heads++;
    return info(name, v);
  }

  async *list(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    throwIfAborted(signal);
    // snapshot, so puts and deletes during the iteration cannot make a name appear twice
    const found: ObjectInfo[] = [];
    for (const [name, versions] of this.objects) {
      const cur = versions.at(-1);
      if (name.startsWith(prefix) && cur?.data) {
        found.push({ name, size: cur.data.length, modified: new Date(cur.modified) });
      }
    }
    this.stats.lists++;
    for (const o of found) {
      throwIfAborted(signal);
      yield o;
    }
  }

  /**
   * Like the S3 adapter: deletes the current version and every older one that surfaces, newest first;
   * LOCKED at the first version under retention or legal hold. A delete marker on top hides the name:
   * nothing to delete (as a HEAD answers 404). Idempotent.
   */
  async delete(name: string): Promise<void> {
    assertValidName(name);
    const list = this.objects.get(name);
    if (!list || !list.at(-1)?.data) return;
    const now = this.clock.now();
    while (list.length > 0) {
      const v = list.at(-1)!;
      assertDeletable(name, v, now);
      list.pop();
      this.stats.deletes++;
    }
    this.objects.delete(name);
  }

  /**
   * Mirrors S3 PutObjectRetention without a governance bypass: an active lock may be lengthened (or
   * GOVERNANCE turned into COMPLIANCE) but never shortened or weakened (LOCKED); repeating the current
   * retention is a no-op. An expired lock can be replaced freely.
   */
  async extendRetention(name: string, retainUntil: Date, mode: LockMode): Promise<void> {
    assertValidName(name);
    this.extendVersion(name, this.mustGet(name), retainUntil, mode);
  }

  async setLegalHold(name: string, on: boolean): Promise<void> {
    assertValidName(name);
    this.mustGet(name).legalHold = on;
  }

  readonly versions: VersionedAccess = {
    listVersions: (prefix, signal) => this.listVersions(prefix, signal),
    getVersion: async (name, versionId, range, signal) => {
      assertValidName(name);
      throwIfAborted(signal);
      return this.readVersion(name, this.mustGetVersion(name, versionId), range);
    },
    headVersion: async (name, versionId) => {
      assertValidName(name);
      this.stats.heads++;
      return info(name, this.mustGetVersion(name, versionId));
    },
    deleteVersion: async (name, versionId) => {
      assertValidName(name);
      const list = this.objects.get(name);
      const i = list?.findIndex((v) => v.versionId === versionId) ?? -1;
      if (!list || i < 0) return;
      assertDeletable(name, list[i]!, this.clock.now());
      list.splice(i, 1);
      if (list.length === 0) this.objects.delete(name);
      this.stats.deletes++;
    },
    extendRetentionVersion: async (name, versionId, retainUntil, mode) => {
      assertValidName(name);
      this.extendVersion(name, this.mustGetVersion(name, versionId), retainUntil, mode);
    },
    setLegalHoldVersion: async (name, versionId, on) => {
      assertValidName(name);
      this.mustGetVersion(name, versionId).legalHold = on;
    },
  };

  private async *listVersions(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectVersion> {
    throwIfAborted(signal);
    const found: ObjectVersion[] = [];
    for (const name of [...this.objects.keys()].sort()) {
      if (!name.startsWith(prefix)) continue;
      const list = this.objects.get(name)!;
      for (let i = list.length - 1; i >= 0; i--) {
        const v = list[i]!;
        found.push({
          name,
          versionId: v.versionId,
          deleteMarker: v.data === undefined,
          isLatest: i === list.length - 1,
          size: v.data?.length ?? 0,
          modified: new Date(v.modified),
        });
      }
    }
    this.stats.lists++;
    for (const v of found) {
      throwIfAborted(signal);
      yield v;
    }
  }

  async serverTime(): Promise<Date> {
    return this.clock.now();
  }

  /** Like a bucket created with Object Lock (which turns versioning on): repositories may use locks. */
  async lockSupport(): Promise<{ versioning: string; objectLock: boolean }> {
    return { versioning: 'Enabled', objectLock: true };
  }

  private nextVersionId(): string {
    return `v${String(++this.versionCounter).padStart(6, '0')}`;
  }

  private addVersion(
    name: string,
    data: Buffer,
    now: Date,
    lock: { retainUntil: Date; mode: LockMode } | undefined,
  ): StoredVersion {
    const v: StoredVersion = { versionId: this.nextVersionId(), data, modified: now };
    if (lock) {
      v.retainUntil = lock.retainUntil;
      v.lockMode = lock.mode;
    }
    const list = this.objects.get(name) ?? [];
    list.push(v);
    this.objects.set(name, list);
    return v;
  }

  private current(name: string): StoredVersion | undefined {
    const v = this.objects.get(name)?.at(-1);
    return v?.data ? v : undefined;
  }

  private mustGet(name: string): StoredVersion {
    const v = this.current(name);
    if (!v) throw new BulwarkError('NOT_FOUND', `${name}: not found`);
    return v;
  }

  private mustGetVersion(name: string, versionId: string): StoredVersion {
    const v = this.objects.get(name)?.find((x) => x.versionId === versionId);
    if (!v?.data) throw new BulwarkError('NOT_FOUND', `${name} (version ${versionId}): not found`);
    return v;
  }

  private readVersion(name: string, v: StoredVersion, range: ByteRange | undefined): Buffer {
    const data = v.data!;
    let out: Buffer;
    if (range === undefined) {
      out = Buffer.from(data);
    } else {
      checkRange(name, range, data.length);
      out = Buffer.from(data.subarray(range.offset, range.offset + range.length));
    }
    this.stats.gets++;
    this.stats.bytesGot += out.length;
    return out;
  }

  private extendVersion(name: string, obj: StoredVersion, retainUntil: Date, mode: LockMode): void {
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
}

function info(name: string, v: StoredVersion): ObjectInfo {
  const out: ObjectInfo = {
    name,
    size: v.data?.length ?? 0,
    modified: new Date(v.modified),
    versionId: v.versionId,
  };
  if (v.retainUntil) {
    out.retainUntil = new Date(v.retainUntil);
    out.lockMode = v.lockMode ?? 'COMPLIANCE';
  }
  if (v.legalHold !== undefined) out.legalHold = v.legalHold;
  return out;
}

function assertDeletable(name: string, v: StoredVersion, now: Date): void {
  if (v.legalHold) {
    throw new BulwarkError('LOCKED', `${name} is under legal hold`, {
      hint: 'Objects under legal hold cannot be deleted until the hold is lifted.',
    });
  }
  if (v.retainUntil && v.retainUntil.getTime() > now.getTime()) {
    throw new BulwarkError(
      'LOCKED',
      `${name} is locked (${v.lockMode ?? 'COMPLIANCE'}) until ${v.retainUntil.toISOString()}`,
      { hint: 'Objects under retention can be deleted only after their retention date.' },
    );
  }
}

async function readBody(name: string, body: PutBody, opts: PutOptions): Promise<Buffer> {
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
  return data;
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
  assertValidRange(name, range);
  const { offset, length } = range;
  if (offset + length > size) {
    throw new BulwarkError(
      'INVALID_ARGUMENT',
      `range ${offset}+${length} is past the end of ${name} (${size} bytes)`,
    );
  }
}
