/**
 * Small sealed JSON records that sit next to the snapshots (retention policies, tier promotions, forgotten
 * snapshots, prune marks, audit entries, legal holds; names in format.ts). Like snapshots they are written once, sealed
 * with the repository key (AES-256-GCM, a type string as AAD so one kind cannot pass for another), and
 * locked like every other object on a target with Object Lock. The catalog only caches them: a new
 * catalog learns them back from the repository.
 */
import { open, seal } from '../crypto/seal.ts';
import { BulwarkError, isBulwarkError } from '../errors.ts';
import type { Repository } from './repository.ts';

export type RecordKind = 'policy' | 'tier' | 'forgotten' | 'prune' | 'audit' | 'hold';

const DAY = 86_400_000;
const aad = (kind: RecordKind): Buffer => Buffer.from(`bulwark-${kind}-v1`);

export function sealRecord(repo: Repository, kind: RecordKind, value: unknown): Buffer {
  return seal(repo.key.encKey, [Buffer.from(JSON.stringify(value))], aad(kind));
}

/** Decrypts and parses a record; CORRUPT when it was altered, damaged or is of another kind. */
export function openRecord<T>(repo: Repository, kind: RecordKind, sealed: Buffer, name: string): T {
  const plain = open(repo.key.encKey, sealed, aad(kind), name);
  try {
    return JSON.parse(plain.toString('utf8')) as T;
  } catch (e) {
    throw new BulwarkError('CORRUPT', `${name}: undecodable contents`, { cause: e });
  }
}

/**
 * Writes a record once. Returns false when an object of that name already exists (the record was written
 * before: names that are not random, such as tier records, are idempotent).
 */
export async function putRecord(
  repo: Repository,
  kind: RecordKind,
  name: string,
  value: unknown,
  retainUntil: Date | undefined,
  signal?: AbortSignal,
): Promise<boolean> {
  try {
    await repo.store.put(name, sealRecord(repo, kind, value), {
      ...repo.lockOptions(retainUntil),
      ...(signal ? { signal } : {}),
    });
  } catch (e) {
    if (isBulwarkError(e, 'ALREADY_EXISTS')) return false;
    throw e;
  }
  if (retainUntil && repo.config.lock) repo.catalog.setRetention(repo.rid, [[name, retainUntil.getTime()]]);
  return true;
}

/** Reads one record; CORRUPT if damaged, NOT_FOUND if gone. */
export async function getRecord<T>(
  repo: Repository,
  kind: RecordKind,
  name: string,
  signal?: AbortSignal,
): Promise<T> {
  return openRecord<T>(repo, kind, await repo.store.get(name, undefined, signal), name);
}

/**
 * The lock a new record gets on a target with Object Lock: as long as a backup's new objects (lock period
 * plus padding from `now`, server time), or `until` plus padding when that is later.
 */
export function recordLock(repo: Repository, now: Date, until?: Date): Date | undefined {
  const lock = repo.config.lock;
  if (!lock) return undefined;
  const base = now.getTime() + (lock.days + lock.paddingDays) * DAY;
  const promised = until ? until.getTime() + lock.paddingDays * DAY : 0;
  return new Date(Math.max(base, promised));
}

/** A sortable time stamp that is a valid object name segment: 20260314T101500123Z. */
export function stamp(d: Date): string {
  return d.toISOString().replace(/[-:.]/g, '');
}

/** The date of a stamp(); undefined if `s` is not one. */
export function parseStamp(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/.exec(s);
  if (!m) return undefined;
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
