/**
 * Keeping backups, run by the service by itself (issue 12): every target's snapshots with their
 * protected-until, tier and legal hold; legal holds per snapshot; each source's retention policy, with a
 * preview computed by the engine's own forget (a dry run with the policy not yet set, so the preview is
 * exactly what `bulwark forget --dry-run` reports once it is); and the upkeep jobs:
 *
 * - forget after each successful backup of a source that has a policy (retention/forget.ts);
 * - prune of every target on a schedule (default weekly, counted from when the service first saw the
 *   target, so a new target is not pruned on its first day), unless prune is paused (the engine's
 *   `prune.paused` flag, which `bulwark prune --pause` sets too);
 * - the lock check (`verify --locks`, locks/verify-locks.ts) of every target with Object Lock, daily; its
 *   result and date are kept, and a `locks-short` alert is open while the server's locks fall short of
 *   what the catalog expects.
 *
 * The upkeep jobs go through the job manager (kinds forget, prune, verify): they wait for the backups of
 * their target, are listed by jobs.list and recorded as runs; forget and prune write the audit log.
 * Schedules and results live in the catalog's `flags` table (`upkeep.*`), so no migration is needed.
 */
import type { Catalog } from '../catalog/catalog.ts';
import type { Clock } from '../clock.ts';
import { BulwarkError, isBulwarkError } from '../errors.ts';
import { holdSnapshot, verifyLocks, type HoldResult, type LockReport } from '../locks/verify-locks.ts';
import type { SnapshotManifest } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import { forget, type ForgetResult, type ForgetSourceResult } from '../retention/forget.ts';
import { getFlag, PRUNE_PAUSED, prunePausedReason, setFlag, setPrunePaused } from '../retention/marks.ts';
import { listRetentionPolicies, setRetentionPolicy, type PolicyRecord } from '../retention/policies.ts';
import {
  applyPolicy,
  validatePolicy,
  type LockTier,
  type RetentionPolicy,
  type Tier,
} from '../retention/policy.ts';
import { prune, type PruneResult } from '../retention/prune.ts';
import {
  describePolicy,
  retentionTemplate,
  retentionTemplates,
  type RetentionTemplate,
  type RetentionTemplateId,
} from '../retention/templates.ts';
import { snapshotTiers, syncTiers } from '../retention/tiers.ts';
import type { AlertCenter } from './alerts.ts';
import type { JobInfo, JobManager, MaintenanceKind } from './jobs.ts';
import { sourceKey, type ServiceConfig, type Source, type Target } from './sources.ts';

const HOUR = 3_600_000;
const SOURCE_KEY_PREFIX = sourceKey('');
/** The service's source id a snapshot's source key names, if it is one of its sources. */
const sourceIdOfKey = (key: string): string | undefined =>
  key.startsWith(SOURCE_KEY_PREFIX) && key.length > SOURCE_KEY_PREFIX.length
    ? key.slice(SOURCE_KEY_PREFIX.length)
    : undefined;
const DAY = 24 * HOUR;
/** Preview rows answered at most (the counts cover them all). */
const MAX_PREVIEW_ITEMS = 2000;

export interface RetentionServiceOptions {
  /** how often each Object Lock target's locks are checked (default: daily) */
  lockCheckEveryMs?: number;
  /** how often each target is pruned (default: weekly) */
  pruneEveryMs?: number;
  /** false: no scheduled upkeep (forget after a backup still runs) */
  schedule?: boolean;
  /** the office's time zone, in which templates count days, weeks, months and years */
  timeZone?: string;
}

/** What the retention service needs of the backup service. */
export interface RetentionDeps {
  catalog: Catalog;
  clock: Clock;
  config: ServiceConfig;
  jobs: JobManager;
  alerts: AlertCenter;
  /** the target's repository, unlocked (opened once, then reused) */
  repositoryForTarget(targetId: string, signal?: AbortSignal): Promise<Repository>;
}

export interface ServiceSnapshot {
  manifest: SnapshotManifest;
  targetId: string;
  /** the service's source it was made of, if it is one */
  sourceId: string | undefined;
  /** earliest lock end over its closure, as the server last reported it (ms) */
  protectedUntil: number | null;
  held: boolean;
  tier: LockTier | null;
}

export interface LockCheckRecord {
  checkedAt: number;
  applicable: boolean;
  ok: boolean;
  snapshots: number;
  objectsChecked: number;
  problems: number;
  /** snapshots with a missing, unlocked or short object */
  shortSnapshots: number;
  /** unacknowledged foreign versions or delete markers */
  tampering: number;
}

interface LockCheckFlag {
  attemptAt: number;
  check?: LockCheckRecord;
  error?: string;
}

interface PruneFlag {
  /** the last prune that ran, or when the service first saw the target */
  at: number;
  ran: boolean;
  summary?: string;
  error?: string;
}

export interface MaintenanceTargetStatus {
  targetId: string;
  lockCheck: LockCheckRecord | null;
  lockCheckError: string | null;
  nextLockCheckAt: number | null;
  lastPruneAt: number | null;
  lastPrune: string | null;
  nextPruneAt: number | null;
}

export interface MaintenanceStatus {
  prune: { paused: boolean; reason: string | null; since: number | null; everyDays: number };
  targets: MaintenanceTargetStatus[];
}

export interface RetentionPreviewItem {
  snapshotId: string;
  time: string;
  outcome: 'keep' | 'remove' | 'locked';
  tier: LockTier | null;
  lockEndsAt: string | null;
  lockedLonger: boolean;
  held: boolean;
}

export interface RetentionPreview {
  policy: RetentionPolicy;
  description: string[];
  evaluatedAt: string;
  items: RetentionPreviewItem[];
  total: number;
  counts: { keep: number; remove: number; locked: number };
}

const lockCheckFlag = (targetId: string): string => `upkeep.locks.${targetId}`;
const pruneFlag = (targetId: string): string => `upkeep.prune.${targetId}`;
/** The job "source" of upkeep that concerns a whole target (prune, the lock check). */
export const targetJobKey = (targetId: string): string => `target:${targetId}`;

const TIER_RANK: Record<LockTier, number> = { daily: 0, weekly: 1, monthly: 2, yearly: 3 };

/** The lock tier a retention tier counts as (hourly, last and within keepers are kept like dailies). */
function lockTierOf(tier: Tier): LockTier {
  return tier === 'yearly' || tier === 'monthly' || tier === 'weekly' ? tier : 'daily';
}

function readJson<T>(catalog: Catalog, name: string): T | undefined {
  const f = getFlag(catalog, name);
  if (!f) return undefined;
  try {
    return JSON.parse(f.value) as T;
  } catch {
    return undefined; // a flag from an older version: as if never set (it is rewritten by the next run)
  }
}

const errorText = (e: unknown): string =>
  (e instanceof Error ? e.message : String(e)).replace(/^[A-Z_]+: /, '');

function pruneSummary(r: PruneResult): string {
  const mb = r.bytesFreed / 1e6;
  const freed =
    r.deleted.length === 0
      ? 'nothing was deleted'
      : `${r.deleted.length} unused data ${r.deleted.length === 1 ? 'file was' : 'files were'} deleted (${mb < 0.1 ? 'less than 0.1' : mb.toFixed(1)} MB freed)`;
  const marked =
    r.marked.length > 0
      ? `; ${r.marked.length} more ${r.marked.length === 1 ? 'is' : 'are'} no longer needed and will be deleted next time`
      : '';
  const locked = r.locked.length > 0 ? `; ${r.locked.length} stay until their lock ends` : '';
  return `${freed.charAt(0).toUpperCase()}${freed.slice(1)}${marked}${locked}.`;
}

export class RetentionService {
  private readonly deps: RetentionDeps;
  private readonly opts: RetentionServiceOptions;

  constructor(deps: RetentionDeps, opts: RetentionServiceOptions = {}) {
    this.deps = deps;
    this.opts = opts;
  }

  get timeZone(): string {
    return this.opts.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  }

  private get lockCheckEveryMs(): number {
    return this.opts.lockCheckEveryMs ?? DAY;
  }

  private get pruneEveryMs(): number {
    return this.opts.pruneEveryMs ?? 7 * DAY;
  }

  private now(): number {
    return this.deps.clock.now().getTime();
  }

  // ---- snapshots -------------------------------------------------------------------------------------

  /** Which target a request means, and which source's snapshots (a source's own target by default). */
  private resolve(req: { sourceId?: string; targetId?: string }): { target: Target; source: Source | null } {
    const { config } = this.deps;
    const source = req.sourceId !== undefined ? config.source(req.sourceId) : null;
    const targetId = req.targetId ?? source?.targetId;
    if (targetId === undefined)
      throw new BulwarkError('INVALID_ARGUMENT', 'say which folder (sourceId) or destination (targetId)');
    return { target: config.target(targetId), source };
  }

  /**
   * A target's snapshots (or one source's on it), newest first, a page at a time: each with the
   * protected-until the server last reported, its legal hold and its tier under its source's policy.
   */
  async listSnapshots(
    req: { sourceId?: string; targetId?: string; offset?: number; limit?: number },
    signal?: AbortSignal,
  ): Promise<{ snapshots: ServiceSnapshot[]; total: number; target: Target }> {
    const { target, source } = this.resolve(req);
    const repo = await this.deps.repositoryForTarget(target.id, signal);
    await repo.syncSnapshots(signal);
    const key = source ? sourceKey(source.id) : undefined;
    const all = repo.catalog.snapshots(repo.rid).filter((m) => key === undefined || m.source === key);
    const tiers = await this.tiersOf(repo, all, signal);
    const protection = repo.catalog.snapshotProtection(repo.rid);
    const holds = repo.catalog.snapshotHolds(repo.rid);
    const newest = [...all].reverse();
    const offset = req.offset ?? 0;
    const page = newest.slice(offset, offset + (req.limit ?? 100));
    return {
      target,
      total: newest.length,
      snapshots: page.map((m) => {
        const p = protection.get(m.id);
        return {
          manifest: m,
          targetId: target.id,
          sourceId: sourceIdOfKey(m.source),
          protectedUntil: p?.protectedUntil ?? null,
          held: holds.get(m.id)?.held ?? p?.held ?? false,
          tier: tiers.get(m.id) ?? null,
        };
      }),
    };
  }

  /** Each snapshot's tier: the longest of its role under its source's policy and any promotion recorded. */
  private async tiersOf(
    repo: Repository,
    snaps: readonly SnapshotManifest[],
    signal?: AbortSignal,
  ): Promise<Map<string, LockTier>> {
    const policies = await listRetentionPolicies(repo, signal);
    await syncTiers(repo, signal);
    const promoted = snapshotTiers(repo);
    const out = new Map<string, LockTier>();
    const bySource = new Map<string, SnapshotManifest[]>();
    for (const m of snaps) bySource.set(m.source, [...(bySource.get(m.source) ?? []), m]);
    const now = this.deps.clock.now();
    for (const [source, list] of bySource) {
      const rec = policies.get(source);
      if (!rec) continue;
      for (const k of applyPolicy(list, rec.policy, now).keep) out.set(k.id, lockTierOf(k.tier));
    }
    for (const m of snaps) {
      const p = promoted.get(m.id);
      const current = out.get(m.id);
      if (p && (current === undefined || TIER_RANK[p.tier] > TIER_RANK[current])) out.set(m.id, p.tier);
    }
    return out;
  }

  /** Places (on) or lifts a legal hold on everything a snapshot needs (locks/verify-locks.ts holdSnapshot). */
  async legalHold(
    req: { sourceId?: string; targetId?: string; snapshotId: string; on: boolean },
    signal?: AbortSignal,
  ): Promise<HoldResult> {
    const { target, source } = this.resolve(req);
    if (target.kind !== 's3' || target.lock === null)
      throw new BulwarkError('UNSUPPORTED', `${target.name} cannot keep backups under legal hold`, {
        hint:
          'Legal holds need a storage bucket with Object Lock. A folder or network share can show when backups ' +
          'were changed, but cannot stop anyone from deleting them.',
      });
    const repo = await this.deps.repositoryForTarget(target.id, signal);
    await repo.syncSnapshots(signal);
    const snap = repo.catalog.snapshots(repo.rid).find((m) => m.id === req.snapshotId);
    if (!snap || (source && snap.source !== sourceKey(source.id)))
      throw new BulwarkError('NOT_FOUND', `there is no backup ${req.snapshotId} on ${target.name}`);
    return holdSnapshot(repo, snap.id, req.on, signal, 'service');
  }

  // ---- retention policies ----------------------------------------------------------------------------

  templates(): RetentionTemplate[] {
    return retentionTemplates(this.timeZone);
  }

  /** The policy in force for a source (from its target's repository), if any. */
  async policyOf(sourceId: string, signal?: AbortSignal): Promise<PolicyRecord | undefined> {
    const s = this.deps.config.source(sourceId);
    const repo = await this.deps.repositoryForTarget(s.targetId, signal);
    return (await listRetentionPolicies(repo, signal)).get(sourceKey(s.id));
  }

  /** A template's policy, or the custom one given (checked by the engine's validatePolicy). */
  policyFor(template: RetentionTemplateId, custom: RetentionPolicy | undefined): RetentionPolicy {
    const policy = custom ?? structuredClone(retentionTemplate(template, this.timeZone).policy);
    validatePolicy(policy);
    return policy;
  }

  /**
   * What `policy` would do with the source's snapshots now: forget in a dry run with that policy (the same
   * code `bulwark forget --dry-run` runs), so nothing is changed and the answer matches it once it is set.
   */
  async preview(sourceId: string, policy: RetentionPolicy, signal?: AbortSignal): Promise<RetentionPreview> {
    const s = this.deps.config.source(sourceId);
    const repo = await this.deps.repositoryForTarget(s.targetId, signal);
    const key = sourceKey(s.id);
    const r: ForgetResult = await forget(repo, {
      dryRun: true,
      sources: [key],
      policy,
      ...(signal ? { signal } : {}),
    });
    const one: ForgetSourceResult | undefined = r.sources.find((x) => x.source === key);
    const holds = repo.catalog.snapshotHolds(repo.rid);
    const protection = repo.catalog.snapshotProtection(repo.rid);
    const held = (id: string): boolean => holds.get(id)?.held ?? protection.get(id)?.held ?? false;
    const items: RetentionPreviewItem[] = [];
    for (const k of one?.keep ?? [])
      items.push({
        snapshotId: k.id,
        time: k.time,
        outcome: 'keep',
        tier: lockTierOf(k.tier),
        lockEndsAt: k.promoted?.until ?? k.protectedUntil ?? null,
        lockedLonger: k.promoted !== undefined,
        held: held(k.id),
      });
    for (const f of one?.forgotten ?? [])
      items.push({
        snapshotId: f.id,
        time: f.time,
        outcome: 'remove',
        tier: null,
        lockEndsAt: null,
        lockedLonger: false,
        held: false,
      });
    for (const l of one?.locked ?? [])
      items.push({
        snapshotId: l.id,
        time: l.time,
        outcome: 'locked',
        tier: null,
        lockEndsAt: l.lockedUntil ?? null,
        lockedLonger: false,
        held: l.held,
      });
    items.sort((a, b) => Date.parse(b.time) - Date.parse(a.time) || (a.snapshotId < b.snapshotId ? -1 : 1));
    return {
      policy,
      description: describePolicy(policy),
      evaluatedAt: r.now,
      items: items.slice(0, MAX_PREVIEW_ITEMS),
      total: items.length,
      counts: {
        keep: one?.keep.length ?? 0,
        remove: one?.forgotten.length ?? 0,
        locked: one?.locked.length ?? 0,
      },
    };
  }

  /** Sets a source's policy in its target's repository (and the audit log); applied after its next backup. */
  async setPolicy(
    sourceId: string,
    template: RetentionTemplateId,
    policy: RetentionPolicy,
    signal?: AbortSignal,
  ): Promise<PolicyRecord> {
    const s = this.deps.config.source(sourceId);
    const repo = await this.deps.repositoryForTarget(s.targetId, signal);
    return setRetentionPolicy(repo, sourceKey(s.id), policy, {
      template,
      actor: 'service',
      ...(signal ? { signal } : {}),
    });
  }

  // ---- upkeep ----------------------------------------------------------------------------------------

  /** After a good backup: forget by the source's policy, if it has one (a queued job). */
  afterBackup(source: Source, repo: Repository): JobInfo | undefined {
    const hasPolicy = repo.catalog.db
      .prepare<[number, string], { x: number }>(
        'SELECT 1 AS x FROM retention_policies WHERE rid = ? AND source = ? LIMIT 1',
      )
      .get(repo.rid, sourceKey(source.id));
    if (!hasPolicy) return undefined;
    return this.enqueue('forget', source.id, source.targetId, async (signal) => {
      const r = await this.deps
        .repositoryForTarget(source.targetId, signal)
        .then((rp) => forget(rp, { sources: [sourceKey(source.id)], actor: 'service', signal }));
      return {
        forgotten: r.forgotten,
        locked: r.locked,
        promoted: r.promoted,
        lockExtensions: r.lockExtensions,
      };
    });
  }

  /** Checks the target's locks now (a queued job); its result is kept and shown. */
  checkLocksNow(targetId: string): JobInfo {
    const t = this.deps.config.target(targetId);
    return this.enqueue(
      'verify',
      targetJobKey(t.id),
      t.id,
      (signal) => this.runLockCheck(t, signal),
      'manual',
    );
  }

  /** Queues the lock checks and prunes that are due. The service calls it from its tick. */
  tick(opts: { paused: boolean }): void {
    if (opts.paused || this.opts.schedule === false) return;
    const now = this.now();
    const { config, catalog } = this.deps;
    const inUse = new Set(config.sources().map((s) => s.targetId));
    const pausedReason = prunePausedReason(catalog);
    for (const t of config.targets()) {
      if (!inUse.has(t.id) || t.repoId === null) continue;
      if (t.lock !== null && !this.active('verify', t.id)) {
        const last = readJson<LockCheckFlag>(catalog, lockCheckFlag(t.id));
        if (!last || now - last.attemptAt >= this.lockCheckEveryMs)
          this.enqueue(
            'verify',
            targetJobKey(t.id),
            t.id,
            (signal) => this.runLockCheck(t, signal),
            'rescan',
          );
      }
      if (pausedReason !== undefined || this.active('prune', t.id)) continue;
      const last = readJson<PruneFlag>(catalog, pruneFlag(t.id));
      if (!last) {
        // first seen now: the first prune is one period away (a new target has nothing to free yet)
        this.writeFlag(pruneFlag(t.id), { at: now, ran: false } satisfies PruneFlag);
      } else if (now - last.at >= this.pruneEveryMs) {
        this.enqueue('prune', targetJobKey(t.id), t.id, (signal) => this.runPrune(t, signal), 'rescan');
      }
    }
  }

  private active(kind: MaintenanceKind, targetId: string): boolean {
    return this.deps.jobs
      .list()
      .some(
        (j) =>
          j.kind === kind &&
          j.targetId === targetId &&
          (j.state === 'QUEUED' || j.state === 'RUNNING' || j.state === 'CANCELING'),
      );
  }

  private enqueue(
    kind: MaintenanceKind,
    sourceId: string,
    targetId: string,
    run: (signal: AbortSignal) => Promise<unknown>,
    reason: 'manual' | 'rescan' = 'rescan',
  ): JobInfo {
    return this.deps.jobs.enqueueMaintenance({
      kind,
      sourceId,
      targetId,
      reason,
      run: async (_job, ctx) => ({ stats: await run(ctx.signal) }),
    });
  }

  private writeFlag(name: string, value: unknown): void {
    setFlag(this.deps.catalog, name, JSON.stringify(value), this.now());
  }

  private async runLockCheck(t: Target, signal: AbortSignal): Promise<LockCheckRecord> {
    const attemptAt = this.now();
    let report: LockReport;
    try {
      const repo = await this.deps.repositoryForTarget(t.id, signal);
      report = await verifyLocks(repo, { signal });
    } catch (e) {
      if (!isBulwarkError(e, 'CANCELED')) {
        const before = readJson<LockCheckFlag>(this.deps.catalog, lockCheckFlag(t.id));
        this.writeFlag(lockCheckFlag(t.id), {
          attemptAt,
          ...(before?.check ? { check: before.check } : {}),
          error: errorText(e),
        } satisfies LockCheckFlag);
      }
      throw e;
    }
    const shortSnapshots = new Set(report.violations.flatMap((v) => (v.snapshot ? [v.snapshot] : []))).size;
    const check: LockCheckRecord = {
      checkedAt: Date.parse(report.serverTime) || attemptAt,
      applicable: report.applicable,
      ok: report.ok,
      snapshots: report.snapshots.length,
      objectsChecked: report.objectsChecked,
      problems: report.violations.length,
      shortSnapshots,
      tampering: report.tampering.filter((x) => !x.acknowledged).length,
    };
    this.writeFlag(lockCheckFlag(t.id), { attemptAt, check } satisfies LockCheckFlag);
    if (report.violations.length === 0) this.deps.alerts.clear('locks-short', { targetId: t.id });
    else
      this.deps.alerts.raise({
        kind: 'locks-short',
        targetId: t.id,
        text: locksShortText(t, check),
      });
    return check;
  }

  private async runPrune(t: Target, signal: AbortSignal): Promise<{ deleted: number; bytesFreed: number }> {
    const at = this.now();
    try {
      const repo = await this.deps.repositoryForTarget(t.id, signal);
      const r = await prune(repo, { actor: 'service', signal });
      this.writeFlag(pruneFlag(t.id), { at, ran: true, summary: pruneSummary(r) } satisfies PruneFlag);
      return { deleted: r.deleted.length, bytesFreed: r.bytesFreed };
    } catch (e) {
      // tried: the next attempt is one period away (a failing target raises its own alerts on backups)
      if (!isBulwarkError(e, 'CANCELED'))
        this.writeFlag(pruneFlag(t.id), { at, ran: false, error: errorText(e) } satisfies PruneFlag);
      throw e;
    }
  }

  // ---- status and pause ------------------------------------------------------------------------------

  status(): MaintenanceStatus {
    const { catalog, config } = this.deps;
    const reason = prunePausedReason(catalog);
    const flag = getFlag(catalog, PRUNE_PAUSED);
    const targets = config.targets().map((t): MaintenanceTargetStatus => {
      const locks = readJson<LockCheckFlag>(catalog, lockCheckFlag(t.id));
      const pr = readJson<PruneFlag>(catalog, pruneFlag(t.id));
      return {
        targetId: t.id,
        lockCheck: locks?.check ?? null,
        lockCheckError: locks?.error ?? null,
        nextLockCheckAt:
          t.lock === null || this.opts.schedule === false
            ? null
            : locks
              ? locks.attemptAt + this.lockCheckEveryMs
              : this.now(),
        lastPruneAt: pr?.ran ? pr.at : null,
        lastPrune: pr?.error ? `The last clean-up could not run: ${pr.error}.` : (pr?.summary ?? null),
        nextPruneAt:
          reason !== undefined || this.opts.schedule === false || !pr ? null : pr.at + this.pruneEveryMs,
      };
    });
    return {
      prune: {
        paused: reason !== undefined,
        reason: reason ?? null,
        since: flag?.setAt ?? null,
        everyDays: this.pruneEveryMs / DAY,
      },
      targets,
    };
  }

  /** Nothing is deleted by prune until resumed (the engine's flag: the CLI's prune refuses too). */
  pausePrune(reason: string | undefined): void {
    setPrunePaused(this.deps.catalog, reason?.trim() || 'paused from the app', this.deps.clock.now());
  }

  resumePrune(): void {
    setPrunePaused(this.deps.catalog, null, this.deps.clock.now());
  }
}

function locksShortText(t: Target, c: LockCheckRecord): string {
  const which =
    c.shortSnapshots === 0
      ? 'Some backup files'
      : c.shortSnapshots === 1
        ? 'One backup'
        : `${c.shortSnapshots} of the ${c.snapshots} backups`;
  return (
    `${which} on ${t.name} ${c.shortSnapshots === 1 ? 'is' : 'are'} not protected as long as Bulwark promised: ` +
    `the storage service reports ${c.problems === 1 ? 'a file' : `${c.problems} files`} whose lock is missing ` +
    'or ends too early, so someone with the storage keys could delete them sooner.'
  );
}
