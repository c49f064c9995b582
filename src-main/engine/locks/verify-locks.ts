import { BulwarkError, isBulwarkError } from '../errors.ts';
import { objectNames, type SnapshotManifest } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import type { ObjectInfo } from '../storage/types.ts';
import { TaskPool } from '../util/pool.ts';
import { recordAudit } from '../audit/audit.ts';
import { snapshotTiers, syncTiers, type SnapshotTier } from '../retention/tiers.ts';
import { snapshotClosure } from './closure.ts';

export type LockProblem = 'missing' | 'unlocked' | 'short';

export interface LockViolation {
  /** the snapshot that needs the object; undefined for an unlocked object no snapshot lists */
  snapshot?: string;
  object: string;
  problem: LockProblem;
  /** what the server reports (ISO), if anything */
  retainUntil?: string;
  /** what the snapshot needs (ISO) */
  needed?: string;
}

export interface SnapshotLockStatus {
  id: string;
  time: string;
  /** the date the snapshot was committed to be kept until */
  retainUntil?: string;
  /** a longer lock tier it was promoted to by `forget` (retention/tiers.ts), and until when */
  tier?: string;
  tierUntil?: string;
  /** the earliest retain-until over its closure as the server reports it: it cannot be lost before */
  protectedUntil?: string;
  /** every object of its closure is under legal hold */
  held: boolean;
  objects: number;
}

export interface LockReport {
  /** false for targets without server-enforced locks (folders): nothing to prove */
  applicable: boolean;
  ok: boolean;
  serverTime: string;
  objectsChecked: number;
  snapshots: SnapshotLockStatus[];
  violations: LockViolation[];
}

// every kind of object Bulwark writes, each written locked (retention records and audit entries too)
const LOCKED_PREFIXES = [
  'keys/',
  'packs/',
  'index/',
  'snapshots/',
  'policies/',
  'tiers/',
  'forgotten/',
  'prune/',
  'audit/',
];

/**
 * Proves the lock-closure invariant from what the server says (HEAD of every repository object, which
 * reports retention and legal hold), and recomputes each snapshot's protected-until. Updates the catalog's
 * lock cache with the server's answers.
 */
export async function verifyLocks(
  repo: Repository,
  opts: { signal?: AbortSignal; concurrency?: number } = {},
): Promise<LockReport> {
  const { store, catalog, rid } = repo;
  const now = await store.serverTime();
  const report: LockReport = {
    applicable: store.capabilities.enforcedLocks && repo.config.lock !== null,
    ok: true,
    serverTime: now.toISOString(),
    objectsChecked: 0,
    snapshots: [],
    violations: [],
  };
  if (!report.applicable) return report;
  await repo.syncIndexes(opts.signal);
  const snaps = await repo.syncSnapshots(opts.signal);
  await syncTiers(repo, opts.signal);
  const tiers = snapshotTiers(repo);

  // What the server says about every repository object.
  const names: string[] = [objectNames.config];
  for (const prefix of LOCKED_PREFIXES)
    for await (const o of store.list(prefix, opts.signal)) names.push(o.name);
  const info = new Map<string, ObjectInfo | null>();
  const pool = new TaskPool(opts.concurrency ?? 16);
  const headAll = async (list: readonly string[]): Promise<void> => {
    for (const n of list) {
      if (info.has(n)) continue;
      info.set(n, null);
      await pool.add(async () => {
        try {
          info.set(n, await store.head(n));
        } catch (e) {
          if (!isBulwarkError(e, 'NOT_FOUND')) throw e;
        }
      });
    }
    await pool.drain();
  };
  await headAll(names);

  const listed = new Set<string>();
  for (const s of snaps) {
    const closure = [...(await snapshotClosure(repo, s, opts.signal)), objectNames.snapshot(s.id)];
    await headAll(closure);
    report.snapshots.push(checkSnapshot(s, closure, info, now, report.violations, tiers.get(s.id)));
    for (const n of closure) listed.add(n);
  }
  // Objects no snapshot lists still must not be silently unlocked (e.g. uploaded by a path that dropped the lock).
  for (const n of names) {
    const i = info.get(n);
    if (!listed.has(n) && i && !i.retainUntil) report.violations.push({ object: n, problem: 'unlocked' });
  }
  report.objectsChecked = info.size;
  report.ok = report.violations.length === 0;

  catalog.setRetention(
    rid,
    [...info].map(([n, i]) => [n, i?.retainUntil?.getTime() ?? null] as [string, number | null]),
  );
  for (const st of report.snapshots) {
    catalog.setSnapshotProtection(
      rid,
      st.id,
      st.protectedUntil ? Date.parse(st.protectedUntil) : null,
      st.held,
    );
  }
  return report;
}

function checkSnapshot(
  s: SnapshotManifest,
  closure: readonly string[],
  info: Map<string, ObjectInfo | null>,
  now: Date,
  out: LockViolation[],
  tier: SnapshotTier | undefined,
): SnapshotLockStatus {
  // what it was promised: the later of its manifest's retain-until and any tier promotion
  const committed = s.retainUntil ? Date.parse(s.retainUntil) : undefined;
  const needed = tier && (committed === undefined || tier.until > committed) ? tier.until : committed;
  const active = needed !== undefined && needed > now.getTime();
  let protectedUntil = Number.POSITIVE_INFINITY;
  let held = true;
  for (const n of closure) {
    const i = info.get(n) ?? null;
    const until = i?.retainUntil?.getTime() ?? 0;
    protectedUntil = Math.min(protectedUntil, until);
    if (!i?.legalHold) held = false;
    if (!active) continue; // an expired snapshot needs nothing any more
    const base = { snapshot: s.id, object: n, needed: new Date(needed).toISOString() };
    if (!i) out.push({ ...base, problem: 'missing' });
    else if (!i.retainUntil) out.push({ ...base, problem: 'unlocked' });
    else if (until < needed)
      out.push({ ...base, problem: 'short', retainUntil: i.retainUntil.toISOString() });
  }
  return {
    id: s.id,
    time: s.time,
    ...(s.retainUntil ? { retainUntil: s.retainUntil } : {}),
    ...(tier ? { tier: tier.tier, tierUntil: new Date(tier.until).toISOString() } : {}),
    ...(protectedUntil > 0 && Number.isFinite(protectedUntil)
      ? { protectedUntil: new Date(protectedUntil).toISOString() }
      : {}),
    held: held && closure.length > 0,
    objects: closure.length,
  };
}

/** Places (or lifts) a legal hold on every object of a snapshot's closure. Returns how many objects. */
export async function holdSnapshot(
  repo: Repository,
  ref: string,
  on: boolean,
  signal?: AbortSignal,
  actor?: string,
): Promise<number> {
  const { store, catalog, rid } = repo;
  if (!store.setLegalHold || !store.capabilities.legalHold) {
    throw new BulwarkError('UNSUPPORTED', `${store.location} does not support legal holds`, {
      hint: 'Legal holds need an S3 bucket with Object Lock.',
    });
  }
  const setHold = store.setLegalHold.bind(store);
  const s = repo.resolveSnapshot(ref);
  const closure = [...(await snapshotClosure(repo, s, signal)), objectNames.snapshot(s.id)];
  const pool = new TaskPool(16);
  for (const n of closure) await pool.add(() => setHold(n, on));
  await pool.drain();
  catalog.setLegalHold(rid, closure, on);
  const prot = catalog.snapshotProtection(rid).get(s.id);
  catalog.setSnapshotProtection(rid, s.id, prot?.protectedUntil ?? null, on);
  await recordAudit(repo, {
    ...(actor !== undefined ? { actor } : {}),
    action: on ? 'hold' : 'release-hold',
    subject: s.id,
    details: { objects: closure.length },
  });
  return closure.length;
}
