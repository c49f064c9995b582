import type { SnapshotSummary } from '../contract/model.ts';
import type {
  LockCheck,
  MaintenanceStatus,
  RetentionPolicy,
  RetentionTemplateId,
} from '../contract/retention.ts';
import { retentionTemplateIdSchema } from '../contract/retention.ts';
import { ok } from '../contract/result.ts';
import { describePolicy } from '../engine/retention/templates.ts';
import type { BackupService } from '../engine/service/index.ts';
import type {
  LockCheckRecord,
  MaintenanceStatus as EngineMaintenanceStatus,
  ServiceSnapshot,
} from '../engine/service/retention.ts';
import type { Handlers } from '../transport/dispatch.ts';
import * as adapt from './adapt.ts';

/**
 * The handlers of snapshots.list (for a source or a target), snapshots.legalHold, retention.* and
 * maintenance.* over the service's RetentionService (engine/service/retention.ts). Shared by `bulwark
 * serve` and the Electron app. `bulwark serve` answers snapshots.list without a source or target from the
 * repository it was given (cli/serve), as before.
 */

export const RETENTION_CHANNELS = [
  'bulwark:snapshots.list',
  'bulwark:snapshots.legalHold',
  'bulwark:retention.get',
  'bulwark:retention.preview',
  'bulwark:retention.set',
  'bulwark:maintenance.status',
  'bulwark:maintenance.pausePrune',
  'bulwark:maintenance.resumePrune',
  'bulwark:maintenance.checkLocks',
] as const;

export type RetentionHandlers = Pick<Handlers, (typeof RETENTION_CHANNELS)[number]>;

const iso = (ms: number): string => new Date(ms).toISOString();

/** An engine snapshot of the service as the contract's summary (the source's name, not its key). */
export function serviceSnapshotSummary(s: ServiceSnapshot, sourceName: string | undefined): SnapshotSummary {
  const m = s.manifest;
  return {
    id: m.id,
    time: m.time,
    host: m.host,
    source: sourceName ?? m.source,
    ...(s.sourceId !== undefined ? { sourceId: s.sourceId } : {}),
    paths: [...m.paths],
    ...(m.parent !== undefined ? { parent: m.parent } : {}),
    stats: {
      files: m.stats.files,
      dirs: m.stats.dirs,
      bytes: m.stats.bytes,
      bytesAdded: m.stats.bytesAdded,
      errors: m.stats.errorCount,
    },
    ...(m.retainUntil !== undefined ? { retainUntil: m.retainUntil } : {}),
    ...(s.protectedUntil !== null ? { protectedUntil: iso(s.protectedUntil) } : {}),
    held: s.held,
    ...(s.tier !== null ? { tier: s.tier } : {}),
    targetId: s.targetId,
  };
}

/** "All 12 backups are locked as promised (1 204 files checked)." and the like, for people. */
export function lockCheckSummary(c: LockCheckRecord): string {
  if (!c.applicable)
    return 'This destination has no storage locks to check: Bulwark detects changes to its backups instead.';
  const backups = `${c.snapshots} ${c.snapshots === 1 ? 'backup' : 'backups'}`;
  if (c.problems === 0 && c.tampering === 0)
    return `${c.snapshots === 1 ? 'The backup is' : `All ${backups} are`} locked as promised (${c.objectsChecked} files checked on the storage service).`;
  const parts: string[] = [];
  if (c.problems > 0)
    parts.push(
      `${c.shortSnapshots > 0 ? `${c.shortSnapshots} of ${backups}` : 'Some backup files'} ` +
        `${c.shortSnapshots === 1 ? 'is' : 'are'} locked for less time than promised, or not at all`,
    );
  if (c.tampering > 0)
    parts.push(
      `${c.tampering} ${c.tampering === 1 ? 'change' : 'changes'} by someone else ${c.tampering === 1 ? 'was' : 'were'} found over backup files`,
    );
  return `${parts.join('; ')}.`;
}

function lockCheck(c: LockCheckRecord): LockCheck {
  return {
    checkedAt: iso(c.checkedAt),
    applicable: c.applicable,
    ok: c.ok,
    snapshots: c.snapshots,
    objectsChecked: c.objectsChecked,
    problems: c.problems,
    summary: lockCheckSummary(c),
  };
}

export function maintenanceStatus(s: EngineMaintenanceStatus): MaintenanceStatus {
  return {
    prune: {
      paused: s.prune.paused,
      ...(s.prune.reason !== null ? { reason: s.prune.reason } : {}),
      ...(s.prune.since !== null ? { since: iso(s.prune.since) } : {}),
      everyDays: s.prune.everyDays,
    },
    targets: s.targets.map((t) => ({
      targetId: t.targetId,
      ...(t.lockCheck ? { lockCheck: lockCheck(t.lockCheck) } : {}),
      ...(t.lockCheckError !== null ? { lockCheckError: t.lockCheckError } : {}),
      ...(t.nextLockCheckAt !== null ? { nextLockCheckAt: iso(t.nextLockCheckAt) } : {}),
      ...(t.lastPruneAt !== null ? { lastPruneAt: iso(t.lastPruneAt) } : {}),
      ...(t.lastPrune !== null ? { lastPrune: t.lastPrune } : {}),
      ...(t.nextPruneAt !== null ? { nextPruneAt: iso(t.nextPruneAt) } : {}),
    })),
  };
}

/** The template a stored policy record names, if it is one of ours (records written by the CLI say e.g. "accounting"). */
function templateId(name: string | undefined): RetentionTemplateId | undefined {
  if (name === undefined) return undefined;
  const cli: Record<string, RetentionTemplateId> = {
    accounting: 'accounting-10y',
    medical: 'medical-records',
    office: 'office-files',
  };
  const parsed = retentionTemplateIdSchema.safeParse(cli[name] ?? name);
  return parsed.success ? parsed.data : undefined;
}

export function createRetentionHandlers(service: BackupService): RetentionHandlers {
  const retention = service.retention;
  const sourceName = (id: string | undefined): string | undefined =>
    id === undefined ? undefined : service.config.findSource(id)?.name;
  const policyOf = (template: RetentionTemplateId, policy: RetentionPolicy | undefined): RetentionPolicy =>
    retention.policyFor(template, policy);

  return {
    'bulwark:snapshots.list': async (req) => {
      if (req.sourceId === undefined && req.targetId === undefined) {
        // The app has no "open repository": the default target stands in for it (else the only one).
        const targets = service.listTargets();
        const t = targets.find((x) => x.isDefault) ?? (targets.length === 1 ? targets[0] : undefined);
        if (!t) return ok({ snapshots: [], total: 0 });
        req = { ...req, targetId: t.id };
      }
      const r = await retention.listSnapshots({
        ...(req.sourceId !== undefined ? { sourceId: req.sourceId } : {}),
        ...(req.targetId !== undefined ? { targetId: req.targetId } : {}),
        ...(req.offset !== undefined ? { offset: req.offset } : {}),
        ...(req.limit !== undefined ? { limit: req.limit } : {}),
      });
      let snaps = r.snapshots;
      if (req.source !== undefined) snaps = snaps.filter((s) => s.manifest.source === req.source);
      return ok({
        snapshots: snaps.map((s) => serviceSnapshotSummary(s, sourceName(s.sourceId))),
        total: r.total,
      });
    },

    'bulwark:snapshots.legalHold': async (req) => {
      const r = await retention.legalHold({
        ...(req.sourceId !== undefined ? { sourceId: req.sourceId } : {}),
        ...(req.targetId !== undefined ? { targetId: req.targetId } : {}),
        snapshotId: req.snapshotId,
        on: req.on,
      });
      return ok({
        snapshotId: r.snapshot,
        held: r.held,
        objects: r.objects,
        released: r.released,
        keptHeld: r.keptHeld,
      });
    },

    'bulwark:retention.get': async ({ sourceId }) => {
      const rec = await retention.policyOf(sourceId);
      const template = templateId(rec?.template);
      return ok({
        sourceId,
        ...(template !== undefined ? { template } : {}),
        ...(rec ? { policy: rec.policy, setAt: rec.time } : {}),
        description: rec
          ? describePolicy(rec.policy)
          : [
              'No backups of this folder are removed: every backup is kept until you choose how long to keep them.',
            ],
        templates: retention.templates(),
      });
    },

    'bulwark:retention.preview': async ({ sourceId, template, policy }) => {
      const p = await retention.preview(sourceId, policyOf(template, policy));
      return ok({
        policy: p.policy,
        description: p.description,
        evaluatedAt: p.evaluatedAt,
        total: p.total,
        counts: p.counts,
        items: p.items.map((i) => ({
          snapshotId: i.snapshotId,
          time: i.time,
          outcome: i.outcome,
          ...(i.tier !== null ? { tier: i.tier } : {}),
          ...(i.lockEndsAt !== null ? { lockEndsAt: i.lockEndsAt } : {}),
          ...(i.lockedLonger ? { lockedLonger: true } : {}),
          held: i.held,
        })),
      });
    },

    'bulwark:retention.set': async ({ sourceId, template, policy }) => {
      const p = policyOf(template, policy);
      await retention.setPolicy(sourceId, template, p);
      return ok({ template, policy: p, description: describePolicy(p) });
    },

    'bulwark:maintenance.status': () => ok(maintenanceStatus(retention.status())),

    'bulwark:maintenance.pausePrune': ({ reason }) => {
      retention.pausePrune(reason);
      return ok(maintenanceStatus(retention.status()));
    },

    'bulwark:maintenance.resumePrune': () => {
      retention.resumePrune();
      return ok(maintenanceStatus(retention.status()));
    },

    'bulwark:maintenance.checkLocks': ({ targetId }) =>
      ok({ job: adapt.job(retention.checkLocksNow(targetId)) }),
  };
}
