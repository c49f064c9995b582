import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { Catalog } from '../catalog/catalog.ts';
import type { Clock } from '../clock.ts';
import { BulwarkError } from '../errors.ts';
import type { LockPolicy } from '../repo/format.ts';
import { pathProblem } from './folders.ts';

/**
 * Sources (what to protect, how often) and targets (where to), kept in the catalog's service_sources and
 * service_targets tables (see migrations.ts). Inputs are validated here with zod, at the engine boundary.
 */

export type TargetKind = 'fs' | 's3';

export interface Target {
  id: string;
  name: string;
  /** a folder path (absolute) or s3://bucket/prefix; never credentials */
  location: string;
  kind: TargetKind;
  endpoint: string | null;
  region: string | null;
  /** bandwidth limit for this target (every job on it shares it); null: unlimited */
  bytesPerSecond: number | null;
  /** the embedded default repository in the data dir (its password is in a key file) */
  isDefault: boolean;
  /** the repository's config id, once the service has opened it */
  repoId: string | null;
  /** the repository's lock policy as read from its config (null: no Object Lock) */
  lock: LockPolicy | null;
  createdAt: number;
  updatedAt: number;
}

export interface Source {
  id: string;
  name: string;
  /** absolute paths backed up together as one snapshot */
  paths: string[];
  /** glob patterns (path.matchesGlob): a pattern without '/' matches a name at any depth */
  include: string[];
  exclude: string[];
  targetId: string;
  /** recovery point objective: alert when the last good snapshot is older than this */
  rpoMinutes: number;
  /** file-system events are batched until this long without a new one */
  quietSeconds: number;
  /** a full rescan (an incremental backup that compares every file) runs at least this often */
  rescanMinutes: number;
  retentionTemplateId: string | null;
  enabled: boolean;
  /** a restore drill (engine/drill) runs at least this often, in days */
  drillEveryDays: number;
  /** recovery time objective: the longest a full restore may take; a drill's estimate above it raises an alert */
  rtoMinutes: number;
  /** 3-2-1: other targets its snapshots are copied to after each good backup (service/copies.ts) */
  copyTargetIds: string[];
  /** start of the last successful run (what it protected is at least that recent) */
  lastSuccessAt: number | null;
  lastSnapshotId: string | null;
  createdAt: number;
  updatedAt: number;
}

export const SOURCE_DEFAULTS = { rpoMinutes: 60, quietSeconds: 30, rescanMinutes: 60 } as const;
/** Restore drills: weekly, and a full restore within 4 hours (the catalog's column defaults say the same). */
export const DRILL_DEFAULTS = { drillEveryDays: 7, rtoMinutes: 240 } as const;

const name = z.string().trim().min(1).max(200);
const glob = z.string().min(1).max(1000);
const fields = {
  name,
  paths: z.array(z.string().min(1).max(4096)).min(1).max(100),
  include: z.array(glob).max(1000),
  exclude: z.array(glob).max(1000),
  targetId: z.string().min(1).max(100),
  rpoMinutes: z.number().positive().max(525_600),
  quietSeconds: z.number().min(0).max(86_400),
  rescanMinutes: z.number().positive().max(525_600),
  retentionTemplateId: z.string().min(1).max(200).nullable(),
  enabled: z.boolean(),
  drillEveryDays: z.number().positive().max(366),
  rtoMinutes: z.number().positive().max(525_600),
  copyTargetIds: z.array(z.string().min(1).max(100)).max(20),
};

export const sourceInputSchema = z.strictObject({
  name: fields.name,
  paths: fields.paths,
  include: fields.include.default([]),
  exclude: fields.exclude.default([]),
  /** default: the default target (created on demand) */
  targetId: fields.targetId.optional(),
  rpoMinutes: fields.rpoMinutes.default(SOURCE_DEFAULTS.rpoMinutes),
  quietSeconds: fields.quietSeconds.default(SOURCE_DEFAULTS.quietSeconds),
  rescanMinutes: fields.rescanMinutes.default(SOURCE_DEFAULTS.rescanMinutes),
  retentionTemplateId: fields.retentionTemplateId.optional(),
  enabled: fields.enabled.default(true),
  drillEveryDays: fields.drillEveryDays.default(DRILL_DEFAULTS.drillEveryDays),
  rtoMinutes: fields.rtoMinutes.default(DRILL_DEFAULTS.rtoMinutes),
  copyTargetIds: fields.copyTargetIds.default([]),
});
export type SourceInput = z.input<typeof sourceInputSchema>;

export const sourceUpdateSchema = z.strictObject({
  name: fields.name.optional(),
  paths: fields.paths.optional(),
  include: fields.include.optional(),
  exclude: fields.exclude.optional(),
  targetId: fields.targetId.optional(),
  rpoMinutes: fields.rpoMinutes.optional(),
  quietSeconds: fields.quietSeconds.optional(),
  rescanMinutes: fields.rescanMinutes.optional(),
  retentionTemplateId: fields.retentionTemplateId.optional(),
  enabled: fields.enabled.optional(),
  drillEveryDays: fields.drillEveryDays.optional(),
  rtoMinutes: fields.rtoMinutes.optional(),
  copyTargetIds: fields.copyTargetIds.optional(),
});
export type SourceUpdate = z.input<typeof sourceUpdateSchema>;

export const targetInputSchema = z.strictObject({
  name: name.optional(),
  location: z.string().min(1).max(4096),
  kind: z.enum(['fs', 's3']).optional(),
  endpoint: z.url().optional(),
  region: z.string().min(1).max(100).optional(),
  bytesPerSecond: z.number().int().positive().nullable().optional(),
});
export type TargetInput = z.input<typeof targetInputSchema>;

export const targetUpdateSchema = z.strictObject({
  name: name.optional(),
  endpoint: z.url().nullable().optional(),
  region: z.string().min(1).max(100).nullable().optional(),
  bytesPerSecond: z.number().int().positive().nullable().optional(),
});
export type TargetUpdate = z.input<typeof targetUpdateSchema>;

/** Parses with a schema; a failure is an INVALID_ARGUMENT naming every bad field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const detail = r.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
  throw new BulwarkError('INVALID_ARGUMENT', `invalid ${what}: ${detail}`);
}

/** The source identity recorded in its snapshots (stable when the source is renamed or its paths change). */
export const sourceKey = (id: string): string => `service:${id}`;

export function targetKindOf(location: string): TargetKind {
  return location.startsWith('s3://') ? 's3' : 'fs';
}

/** A folder location made absolute (file:// URLs included); S3 locations as given. */
export function normalizeLocation(location: string): string {
  if (location.startsWith('s3://')) return location;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith('file://')) {
    throw new BulwarkError('UNSUPPORTED', `unsupported target location ${location}`, {
      hint: 'Use a folder path or s3://bucket/prefix.',
    });
  }
  return resolve(location.startsWith('file://') ? new URL(location).pathname : location);
}

/** Is `p` the folder `dir` or inside it? (both absolute) */
import { compileFilter, isInside } from '../backup/filter.ts';

export { compileFilter, isInside };

// ---- persistence ---------------------------------------------------------------------------------------

interface TargetRow {
  id: string;
  name: string;
  location: string;
  kind: TargetKind;
  endpoint: string | null;
  region: string | null;
  bytes_per_second: number | null;
  is_default: number;
  repo_id: string | null;
  lock: string | null;
  created_at: number;
  updated_at: number;
}

interface SourceRow {
  id: string;
  name: string;
  paths: string;
  include: string;
  exclude: string;
  target_id: string;
  rpo_minutes: number;
  quiet_seconds: number;
  rescan_minutes: number;
  retention_template: string | null;
  enabled: number;
  drill_every_days: number;
  rto_minutes: number;
  copy_target_ids: string;
  last_success_at: number | null;
  last_snapshot_id: string | null;
  created_at: number;
  updated_at: number;
}

const toTarget = (r: TargetRow): Target => ({
  id: r.id,
  name: r.name,
  location: r.location,
  kind: r.kind,
  endpoint: r.endpoint,
  region: r.region,
  bytesPerSecond: r.bytes_per_second,
  isDefault: r.is_default === 1,
  repoId: r.repo_id,
  lock: r.lock === null ? null : (JSON.parse(r.lock) as LockPolicy | null),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toSource = (r: SourceRow): Source => ({
  id: r.id,
  name: r.name,
  paths: JSON.parse(r.paths) as string[],
  include: JSON.parse(r.include) as string[],
  exclude: JSON.parse(r.exclude) as string[],
  targetId: r.target_id,
  rpoMinutes: r.rpo_minutes,
  quietSeconds: r.quiet_seconds,
  rescanMinutes: r.rescan_minutes,
  retentionTemplateId: r.retention_template,
  enabled: r.enabled === 1,
  drillEveryDays: r.drill_every_days,
  rtoMinutes: r.rto_minutes,
  copyTargetIds: JSON.parse(r.copy_target_ids) as string[],
  lastSuccessAt: r.last_success_at,
  lastSnapshotId: r.last_snapshot_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

function normalizePaths(paths: readonly string[]): string[] {
  // resolve() would turn `C:\Users\office` on Linux (or any relative path) into a folder of the working folder
  for (const p of paths) {
    const problem = pathProblem(p);
    if (problem) throw problem;
  }
  const out: string[] = [];
  for (const p of paths.map((x) => resolve(x))) {
    if (out.some((o) => isInside(o, p) || isInside(p, o))) {
      throw new BulwarkError('INVALID_ARGUMENT', `source paths overlap: ${p}`, {
        hint: 'Give each folder once; a folder already includes everything inside it.',
      });
    }
    out.push(p);
  }
  return out;
}

/** CRUD over service_targets and service_sources (plain checks + zod; no I/O besides the catalog). */
export class ServiceConfig {
  private readonly catalog: Catalog;
  private readonly clock: Clock;

  constructor(catalog: Catalog, clock: Clock) {
    this.catalog = catalog;
    this.clock = clock;
  }

  private get db(): Catalog['db'] {
    return this.catalog.db;
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  // ---- targets ---------------------------------------------------------------------------------------

  targets(): Target[] {
    return this.db
      .prepare<[], TargetRow>('SELECT * FROM service_targets ORDER BY created_at, id')
      .all()
      .map(toTarget);
  }

  findTarget(id: string): Target | undefined {
    const r = this.db.prepare<[string], TargetRow>('SELECT * FROM service_targets WHERE id = ?').get(id);
    return r && toTarget(r);
  }

  target(id: string): Target {
    const t = this.findTarget(id);
    if (!t) throw new BulwarkError('NOT_FOUND', `no target ${id}`);
    return t;
  }

  defaultTarget(): Target | undefined {
    const r = this.db
      .prepare<[], TargetRow>('SELECT * FROM service_targets WHERE is_default = 1 LIMIT 1')
      .get();
    return r && toTarget(r);
  }

  addTarget(input: TargetInput, extra: { id?: string; isDefault?: boolean } = {}): Target {
    const v = validate(targetInputSchema, input, 'target');
    const location = normalizeLocation(v.location);
    const kind = targetKindOf(location);
    if (v.kind !== undefined && v.kind !== kind)
      throw new BulwarkError('INVALID_ARGUMENT', `target ${location} is not of kind ${v.kind}`);
    if (kind === 'fs' && (v.endpoint !== undefined || v.region !== undefined))
      throw new BulwarkError('INVALID_ARGUMENT', 'endpoint and region apply only to s3:// targets');
    if (this.db.prepare('SELECT 1 FROM service_targets WHERE location = ?').get(location) !== undefined)
      throw new BulwarkError('ALREADY_EXISTS', `a target at ${location} is already configured`);
    const id = extra.id ?? randomUUID();
    const now = this.now();
    this.db
      .prepare(
        `INSERT INTO service_targets (id, name, location, kind, endpoint, region, bytes_per_second, is_default,
           repo_id, lock, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)`,
      )
      .run(
        id,
        v.name ?? location,
        location,
        kind,
        v.endpoint ?? null,
        v.region ?? null,
        v.bytesPerSecond ?? null,
        extra.isDefault ? 1 : 0,
        now,
        now,
      );
    return this.target(id);
  }

  updateTarget(id: string, input: TargetUpdate): Target {
    const t = this.target(id);
    const v = validate(targetUpdateSchema, input, 'target update');
    if (t.kind === 'fs' && ((v.endpoint ?? null) !== null || (v.region ?? null) !== null))
      throw new BulwarkError('INVALID_ARGUMENT', 'endpoint and region apply only to s3:// targets');
    this.db
      .prepare(
        'UPDATE service_targets SET name = ?, endpoint = ?, region = ?, bytes_per_second = ?, updated_at = ? WHERE id = ?',
      )
      .run(
        v.name ?? t.name,
        v.endpoint === undefined ? t.endpoint : v.endpoint,
        v.region === undefined ? t.region : v.region,
        v.bytesPerSecond === undefined ? t.bytesPerSecond : v.bytesPerSecond,
        this.now(),
        id,
      );
    return this.target(id);
  }

  /** Records what the repository at a target is (its config id and lock policy). */
  recordRepository(id: string, repoId: string, lock: LockPolicy | null): void {
    this.db
      .prepare('UPDATE service_targets SET repo_id = ?, lock = ? WHERE id = ?')
      .run(repoId, JSON.stringify(lock), id);
  }

  removeTarget(id: string): void {
    this.target(id);
    const users = this.sources().filter((s) => s.targetId === id || s.copyTargetIds.includes(id));
    if (users.length > 0) {
      throw new BulwarkError(
        'INVALID_ARGUMENT',
        `target ${id} is used by ${users.map((s) => s.name).join(', ')}`,
        {
          hint: 'Move those sources to another target, or remove them first.',
        },
      );
    }
    this.db.prepare('DELETE FROM service_targets WHERE id = ?').run(id);
  }

  // ---- sources ---------------------------------------------------------------------------------------

  sources(): Source[] {
    return this.db
      .prepare<[], SourceRow>('SELECT * FROM service_sources ORDER BY created_at, id')
      .all()
      .map(toSource);
  }

  findSource(id: string): Source | undefined {
    const r = this.db.prepare<[string], SourceRow>('SELECT * FROM service_sources WHERE id = ?').get(id);
    return r && toSource(r);
  }

  source(id: string): Source {
    const s = this.findSource(id);
    if (!s) throw new BulwarkError('NOT_FOUND', `no source ${id}`);
    return s;
  }

  /**
   * Adds a source; `targetId` must name a configured target (the service fills in the default one).
   * `extra.id`: the id of a source recreated from its backups on a new computer (service/recovery.ts).
   */
  addSource(input: SourceInput, extra: { id?: string } = {}): Source {
    const v = validate(sourceInputSchema, input, 'source');
    if (v.targetId === undefined) throw new BulwarkError('INVALID_ARGUMENT', 'a source needs a target');
    const target = this.target(v.targetId);
    const paths = normalizePaths(v.paths);
    checkTargetOutside(paths, target);
    const id = extra.id ?? randomUUID();
    const now = this.now();
    this.db
      .prepare(
        `INSERT INTO service_sources (id, name, paths, include, exclude, target_id, rpo_minutes, quiet_seconds,
           rescan_minutes, retention_template, enabled, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        v.name,
        JSON.stringify(paths),
        JSON.stringify(v.include),
        JSON.stringify(v.exclude),
        target.id,
        v.rpoMinutes,
        v.quietSeconds,
        v.rescanMinutes,
        v.retentionTemplateId ?? null,
        v.enabled ? 1 : 0,
        now,
        now,
      );
    this.setDrillSettings(id, v.drillEveryDays, v.rtoMinutes);
    this.setCopyTargets(id, this.checkCopyTargets(v.copyTargetIds, target.id));
    return this.source(id);
  }

  updateSource(id: string, input: SourceUpdate): Source {
    const s = this.source(id);
    const v = validate(sourceUpdateSchema, input, 'source update');
    const target = this.target(v.targetId ?? s.targetId);
    const paths = v.paths ? normalizePaths(v.paths) : s.paths;
    checkTargetOutside(paths, target);
    this.db
      .prepare(
        `UPDATE service_sources SET name = ?, paths = ?, include = ?, exclude = ?, target_id = ?, rpo_minutes = ?,
           quiet_seconds = ?, rescan_minutes = ?, retention_template = ?, enabled = ?, updated_at = ? WHERE id = ?`,
      )
      .run(
        v.name ?? s.name,
        JSON.stringify(paths),
        JSON.stringify(v.include ?? s.include),
        JSON.stringify(v.exclude ?? s.exclude),
        target.id,
        v.rpoMinutes ?? s.rpoMinutes,
        v.quietSeconds ?? s.quietSeconds,
        v.rescanMinutes ?? s.rescanMinutes,
        v.retentionTemplateId === undefined ? s.retentionTemplateId : v.retentionTemplateId,
        (v.enabled ?? s.enabled) ? 1 : 0,
        this.now(),
        id,
      );
    this.setDrillSettings(id, v.drillEveryDays ?? s.drillEveryDays, v.rtoMinutes ?? s.rtoMinutes);
    // Moving the source onto one of its copy targets keeps that target once, as the primary.
    const copies = (v.copyTargetIds ?? s.copyTargetIds).filter(
      (t) => v.copyTargetIds !== undefined || t !== target.id,
    );
    this.setCopyTargets(id, this.checkCopyTargets(copies, target.id));
    return this.source(id);
  }

  /** Copy targets must be configured targets other than the source's own; duplicates are dropped. */
  private checkCopyTargets(ids: readonly string[], primaryId: string): string[] {
    const out: string[] = [];
    for (const id of ids) {
      if (id === primaryId)
        throw new BulwarkError('INVALID_ARGUMENT', 'a source cannot be copied to the target it backs up to', {
          hint: 'Choose another destination for the extra copy.',
        });
      if (!this.findTarget(id))
        throw new BulwarkError('NOT_FOUND', `there is no backup destination ${id} to copy to`, {
          hint: 'Add the destination on the Targets page first, then choose it here.',
        });
      if (!out.includes(id)) out.push(id);
    }
    return out;
  }

  /** The copy targets of a source (a column of its own: see migrations.ts). */
  private setCopyTargets(id: string, targetIds: readonly string[]): void {
    this.db
      .prepare('UPDATE service_sources SET copy_target_ids = ? WHERE id = ?')
      .run(JSON.stringify(targetIds), id);
  }

  /** The restore-drill settings of a source (columns of their own: see migrations.ts). */
  private setDrillSettings(id: string, drillEveryDays: number, rtoMinutes: number): void {
    this.db
      .prepare('UPDATE service_sources SET drill_every_days = ?, rto_minutes = ? WHERE id = ?')
      .run(drillEveryDays, rtoMinutes, id);
  }

  removeSource(id: string): void {
    this.source(id);
    this.db.prepare('DELETE FROM service_sources WHERE id = ?').run(id);
  }

  /** After a successful run: what it protected is at least as recent as `startedAt`. */
  recordSuccess(id: string, startedAt: number, snapshotId: string | null): void {
    this.db
      .prepare(
        'UPDATE service_sources SET last_success_at = max(coalesce(last_success_at, 0), ?), last_snapshot_id = ? WHERE id = ?',
      )
      .run(startedAt, snapshotId, id);
  }
}

/** A source inside its own folder target would back up its backups (and trigger itself forever). */
function checkTargetOutside(paths: readonly string[], target: Target): void {
  if (target.kind !== 'fs') return;
  for (const p of paths) {
    if (isInside(target.location, p)) {
      throw new BulwarkError('INVALID_ARGUMENT', `${p} is inside the target repository ${target.location}`, {
        hint: 'Choose folders outside the backup repository.',
      });
    }
  }
}
