/**
 * `forget`: applies each source's retention policy (policy.ts) to its snapshots.
 *
 * - Kept snapshots whose lock tier needs a longer lock than they have are PROMOTED: on a target with
 *   Object Lock the locks of the whole closure (every object the snapshot needs) are extended to
 *   snapshot time + the tier's lock period (+ padding), and the promise is recorded (tiers.ts) in the
 *   catalog and as a `tiers/` object, so `verify --locks` checks it even after a rebuild.
 * - Snapshots the policy no longer keeps are deleted (their `snapshots/<id>` object; prune later frees the
 *   data nobody needs any more) — unless they are still protected: a retain-until, tier date or legal hold
 *   in the future by the SERVER's clock, or the policy's daily lock counted from the snapshot's time. Those
 *   are reported as "kept: locked until D"; forget never sends a delete for them.
 * - Folder targets (no server-enforced locks) take the same path: the dates Bulwark recorded (manifest,
 *   tier records, policy) are honoured by Bulwark itself. Such a target is tamper-evident, not immutable.
 *
 * Before deleting a snapshot, a `forgotten/<id>` record keeps its chain hash, so `verify` can tell a
 * forgotten snapshot from a removed one.
 */
import { hostname } from 'node:os';
import { recordAudit } from '../audit/audit.ts';
import { BulwarkError, isBulwarkError } from '../errors.ts';
import { removeFromHistory } from '../history/sync.ts';
import { DAY_MS, extendLocks, snapshotClosure } from '../locks/closure.ts';
import { objectNames, type SnapshotManifest } from '../repo/format.ts';
import { putRecord, recordLock } from '../repo/records.ts';
import type { Repository } from '../repo/repository.ts';
import { listRetentionPolicies } from './policies.ts';
import { applyPolicy, lockDaysFor, type LockTier, type RetentionPolicy, type Tier } from './policy.ts';
import { recordTier, snapshotTiers, syncTiers, type SnapshotTier } from './tiers.ts';

export interface ForgetOptions {
  /** only report what would happen */
  dryRun?: boolean;
  /** when the policy is evaluated (default: the server's clock); locks are always judged by the server */
  now?: Date;
  /** only these sources (default: every source that has a policy) */
  sources?: readonly string[];
  /**
   * Evaluate with this policy instead of the one in force (a preview of a policy before it is set: the
   * retention editor). Only with `dryRun`, so nothing is ever removed under a policy nobody set.
   */
  policy?: RetentionPolicy;
  actor?: string;
  signal?: AbortSignal;
}

export interface ForgetKept {
  id: string;
  time: string;
  tier: Tier;
  lockTier: LockTier;
  reasons: Tier[];
  /** the date Bulwark has promised to keep it until (manifest, tier record), after any promotion (ISO) */
  protectedUntil?: string;
  /** promoted by this run (or, in a dry run, would be) */
  promoted?: { tier: LockTier; until: string; lockExtensions: number };
}

export interface ForgetLocked {
  id: string;
  time: string;
  /** the latest date that still protects it (ISO); absent when only a legal hold does */
  lockedUntil?: string;
  held: boolean;
  /** what protects it: 'server lock', 'retain-until', 'tier yearly', 'daily lock of the policy', 'legal hold' */
  reasons: string[];
}

export interface ForgetSourceResult {
  source: string;
  policy: RetentionPolicy;
  /** newest first */
  keep: ForgetKept[];
  /** deleted by this run (in a dry run: would be) */
  forgotten: { id: string; time: string }[];
  /** not kept by the policy but still protected */
  locked: ForgetLocked[];
  /** snapshots that could not be handled (e.g. a promotion failed on a damaged closure) */
  errors: { id: string; message: string }[];
}

export interface ForgetResult {
  dryRun: boolean;
  /** the server's clock when forget ran (ISO) */
  serverTime: string;
  /** when the policies were evaluated (ISO) */
  now: string;
  sources: ForgetSourceResult[];
  /** sources that have snapshots but no policy: nothing of theirs is forgotten */
  withoutPolicy: string[];
  forgotten: number;
  locked: number;
  promoted: number;
  lockExtensions: number;
}

/** A forgotten snapshot's place in its source's hash chain (see ops/verify.ts). */
export interface ForgottenRecord {
  version: 1;
  id: string;
  source: string;
  /** the snapshot's time */
  time: string;
  /** its chain hash, as its successor recorded it */
  hash: string;
  prev?: { id: string; hash: string };
  forgottenAt: string;
  host: string;
}

const maxDefined = (...xs: (number | undefined)[]): number | undefined => {
  const ds = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  return ds.length === 0 ? undefined : Math.max(...ds);
};

/** What protects a snapshot from being forgotten now (server clock). */
export async function snapshotLockState(
  repo: Repository,
  m: SnapshotManifest,
  serverNow: Date,
  policy: RetentionPolicy | undefined,
  tier: SnapshotTier | undefined,
): Promise<{ locked: boolean; until?: number; held: boolean; reasons: string[] }> {
  const now = serverNow.getTime();
  const name = objectNames.snapshot(m.id);
  let server: number | undefined;
  let held = repo.catalog.snapshotProtection(repo.rid).get(m.id)?.held === true;
  try {
    const info = await repo.store.head(name);
    server = info.retainUntil?.getTime();
    held ||= info.legalHold === true;
  } catch (e) {
    if (!isBulwarkError(e, 'NOT_FOUND')) throw e;
  }
  const recorded = repo.catalog.retention(repo.rid, [name]).get(name) ?? undefined;
  const dates: [string, number | undefined][] = [
    ['server lock', maxDefined(server, recorded ?? undefined)],
    ['retain-until', m.retainUntil ? Date.parse(m.retainUntil) : undefined],
    [`tier ${tier?.tier ?? ''}`.trim(), tier?.until],
    ['daily lock of the policy', policy ? Date.parse(m.time) + policy.lockDays.daily * DAY_MS : undefined],
  ];
  const reasons = dates.filter(([, d]) => d !== undefined && d > now).map(([r]) => r);
  if (held) reasons.push('legal hold');
  const until = maxDefined(...dates.map(([, d]) => d));
  return {
    locked: reasons.length > 0,
    ...(until !== undefined && until > now ? { until } : {}),
    held,
    reasons,
  };
}

/** Applies every source's retention policy: promotes, forgets, reports what stays locked (module comment). */
export async function forget(repo: Repository, opts: ForgetOptions = {}): Promise<ForgetResult> {
  const { store, catalog, rid } = repo;
  const signal = opts.signal;
  const dryRun = opts.dryRun === true;
  if (opts.policy !== undefined && !dryRun)
    throw new BulwarkError(
      'INVALID_ARGUMENT',
      'forget: a policy that is not set can only be previewed (dry run)',
    );
  // With the repository's settings replaced by someone else, nothing is removed until a person looked.
  await repo.checkConfig();
  if (!dryRun) repo.assertLockInvariant();
  const serverNow = await store.serverTime();
  const now = opts.now ?? serverNow;
  await repo.syncIndexes(signal);
  const snaps = await repo.syncSnapshots(signal);
  const policies = await listRetentionPolicies(repo, signal);
  await syncTiers(repo, signal);
  const tiers = snapshotTiers(repo);
  const lock = repo.config.lock;
  const canExtend =
    lock !== null && store.capabilities.extendRetention && store.extendRetention !== undefined;

  const bySource = new Map<string, SnapshotManifest[]>();
  for (const s of snaps) {
    if (opts.sources && !opts.sources.includes(s.source)) continue;
    const list = bySource.get(s.source) ?? [];
    list.push(s);
    bySource.set(s.source, list);
  }
  const result: ForgetResult = {
    dryRun,
    serverTime: serverNow.toISOString(),
    now: now.toISOString(),
    sources: [],
    withoutPolicy: [],
    forgotten: 0,
    locked: 0,
    promoted: 0,
    lockExtensions: 0,
  };

  for (const [source, list] of [...bySource].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const rec = opts.policy !== undefined ? { policy: opts.policy } : policies.get(source);
    if (!rec) {
      result.withoutPolicy.push(source);
      continue;
    }
    const policy = rec.policy;
    const byId = new Map(list.map((s) => [s.id, s]));
    const decision = applyPolicy(list, policy, now);
    const out: ForgetSourceResult = { source, policy, keep: [], forgotten: [], locked: [], errors: [] };
    result.sources.push(out);

    for (const k of decision.keep) {
      const m = byId.get(k.id);
      if (!m) continue;
      const time = Date.parse(m.time);
      const tier = tiers.get(m.id);
      const current = maxDefined(m.retainUntil ? Date.parse(m.retainUntil) : undefined, tier?.until);
      const needed = time + lockDaysFor(k.lockTier, policy) * DAY_MS;
      const kept: ForgetKept = {
        id: m.id,
        time: m.time,
        tier: k.tier,
        lockTier: k.lockTier,
        reasons: k.reasons,
        ...(current !== undefined ? { protectedUntil: new Date(current).toISOString() } : {}),
      };
      out.keep.push(kept);
      // Promote only to a date still ahead (a lock that would already have ended protects nothing).
      if ((current !== undefined && needed <= current) || needed <= serverNow.getTime()) continue;
      const until = new Date(needed);
      if (dryRun) {
        kept.promoted = { tier: k.lockTier, until: until.toISOString(), lockExtensions: 0 };
        result.promoted++;
        continue;
      }
      try {
        let extensions = 0;
        let lockUntil: Date | undefined;
        if (canExtend && lock) {
          lockUntil = new Date(needed + lock.paddingDays * DAY_MS);
          const closure = [...(await snapshotClosure(repo, m, signal)), objectNames.snapshot(m.id)];
          const ext = await extendLocks(repo, closure, until, lockUntil, signal ? { signal } : {});
          extensions = ext.extensions;
          catalog.setSnapshotProtection(rid, m.id, Math.min(ext.protectedUntil, lockUntil.getTime()));
        }
        await recordTier(
          repo,
          {
            version: 1,
            snapshot: m.id,
            tier: k.lockTier,
            until: until.toISOString(),
            time: serverNow.toISOString(),
            lockDays: lockDaysFor(k.lockTier, policy),
          },
          lockUntil,
          signal,
        );
        kept.promoted = { tier: k.lockTier, until: until.toISOString(), lockExtensions: extensions };
        kept.protectedUntil = until.toISOString();
        result.promoted++;
        result.lockExtensions += extensions;
      } catch (e) {
        if (isBulwarkError(e, 'CANCELED')) throw e;
        out.errors.push({ id: m.id, message: e instanceof Error ? e.message : String(e) });
      }
    }

    for (const f of decision.forget) {
      const m = byId.get(f.id);
      if (!m) continue;
      const state = await snapshotLockState(repo, m, serverNow, policy, tiers.get(m.id));
      const locked = (): void => {
        out.locked.push({
          id: m.id,
          time: m.time,
          ...(state.until !== undefined ? { lockedUntil: new Date(state.until).toISOString() } : {}),
          held: state.held,
          reasons: state.reasons,
        });
        result.locked++;
      };
      if (state.locked) {
        locked();
        continue;
      }
      if (!dryRun) {
        try {
          await forgetSnapshot(repo, m, serverNow, signal);
        } catch (e) {
          // the server refused: it knows of a lock or hold we did not (never retried, never forced)
          if (isBulwarkError(e, 'LOCKED')) {
            state.reasons.push('server refused');
            locked();
            continue;
          }
          if (isBulwarkError(e, 'CANCELED')) throw e;
          out.errors.push({ id: m.id, message: e instanceof Error ? e.message : String(e) });
          continue;
        }
      }
      out.forgotten.push({ id: m.id, time: m.time });
      result.forgotten++;
    }
  }
  result.withoutPolicy.sort();

  if (!dryRun) {
    await recordAudit(repo, {
      ...(opts.actor !== undefined ? { actor: opts.actor } : {}),
      action: 'forget',
      subject: repo.config.id,
      details: {
        now: result.now,
        forgotten: result.sources.flatMap((s) => s.forgotten.map((f) => f.id)),
        promoted: result.sources.flatMap((s) =>
          s.keep.filter((k) => k.promoted).map((k) => ({ id: k.id, ...k.promoted })),
        ),
        locked: result.sources.flatMap((s) =>
          s.locked.map((l) => ({ id: l.id, until: l.lockedUntil ?? null, held: l.held })),
        ),
        errors: result.sources.flatMap((s) => s.errors),
      },
    });
  }
  return result;
}

/** Records the snapshot's chain hash, then deletes its object and its catalog row. */
async function forgetSnapshot(
  repo: Repository,
  m: SnapshotManifest,
  serverNow: Date,
  signal?: AbortSignal,
): Promise<void> {
  const rec: ForgottenRecord = {
    version: 1,
    id: m.id,
    source: m.source,
    time: m.time,
    hash: repo.chainHash(repo.encodeSnapshot(m).plain),
    ...(m.prev ? { prev: m.prev } : {}),
    forgottenAt: serverNow.toISOString(),
    host: hostname(),
  };
  await putRecord(repo, 'forgotten', objectNames.forgotten(m.id), rec, recordLock(repo, serverNow), signal);
  const name = objectNames.snapshot(m.id);
  await repo.store.delete(name);
  repo.catalog.db.prepare('DELETE FROM snapshots WHERE rid = ? AND id = ?').run(repo.rid, m.id);
  repo.catalog.db.prepare('DELETE FROM locks WHERE rid = ? AND name = ?').run(repo.rid, name);
  await removeFromHistory(repo, m.source, m.id);
}
