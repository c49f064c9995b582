import type { Catalog } from '../catalog/catalog.ts';
import { sourceKey, type ServiceConfig } from './sources.ts';

/**
 * The audit log as the service's catalog holds it (audit/audit.ts writes each entry here first, then its
 * write-once, hash-chained copy into the target's repository), for the app's Audit page: newest first,
 * filtered by time, action, source and target, a page at a time. Each entry says whether its copy is in the
 * repository yet (`stored`); `bulwark audit` reads the copies themselves.
 */

export interface AuditQuery {
  /** ms, inclusive */
  since?: number;
  /** ms, exclusive */
  until?: number;
  action?: string;
  sourceId?: string;
  targetId?: string;
  offset?: number;
  limit?: number;
}

export interface AuditRecord {
  id: number;
  time: number;
  actor: string;
  host: string | null;
  user: string | null;
  action: string;
  subject: string | null;
  details: unknown;
  sourceId: string | null;
  sourceName: string | null;
  targetId: string | null;
  targetName: string | null;
  stored: boolean;
}

export interface AuditPage {
  entries: AuditRecord[];
  total: number;
  offset: number;
  /** every action in the log, sorted */
  actions: string[];
}

interface Row {
  id: number;
  time: number;
  actor: string;
  action: string;
  subject: string | null;
  details: string | null;
  host: string | null;
  user: string | null;
  object: string | null;
  repo_id: string | null;
  details_source: string | null;
}

const SOURCE_PREFIX = sourceKey('');

export function listAudit(deps: { catalog: Catalog; config: ServiceConfig }, q: AuditQuery = {}): AuditPage {
  const db = deps.catalog.db;
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.since !== undefined) {
    where.push('a.time >= ?');
    args.push(q.since);
  }
  if (q.until !== undefined) {
    where.push('a.time < ?');
    args.push(q.until);
  }
  if (q.action !== undefined) {
    where.push('a.action = ?');
    args.push(q.action);
  }
  if (q.sourceId !== undefined) {
    where.push(`json_valid(a.details) AND json_extract(a.details, '$.source') = ?`);
    args.push(sourceKey(q.sourceId));
  }
  if (q.targetId !== undefined) {
    const repoId = deps.config.findTarget(q.targetId)?.repoId ?? null;
    if (repoId === null)
      return { entries: [], total: 0, offset: q.offset ?? 0, actions: actions(deps.catalog) };
    where.push('r.repo_id = ?');
    args.push(repoId);
  }
  const from = `FROM audit a LEFT JOIN repositories r ON r.rid = a.rid ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
  const total =
    db.prepare<(string | number)[], { n: number }>(`SELECT COUNT(*) AS n ${from}`).get(...args)?.n ?? 0;
  const offset = q.offset ?? 0;
  const rows = db
    .prepare<(string | number)[], Row>(
      `SELECT a.id, a.time, a.actor, a.action, a.subject, a.details, a.host, a.user, a.object, r.repo_id,
              CASE WHEN json_valid(a.details) THEN json_extract(a.details, '$.source') END AS details_source
       ${from} ORDER BY a.time DESC, a.id DESC LIMIT ? OFFSET ?`,
    )
    .all(...args, q.limit ?? 100, offset);
  const targets = deps.config.targets();
  const targetByRepo = new Map(targets.flatMap((t) => (t.repoId !== null ? [[t.repoId, t] as const] : [])));
  const sources = new Map(deps.config.sources().map((s) => [s.id, s]));
  const entries = rows.map((r): AuditRecord => {
    const t = r.repo_id !== null ? targetByRepo.get(r.repo_id) : undefined;
    const sid =
      typeof r.details_source === 'string' && r.details_source.startsWith(SOURCE_PREFIX)
        ? r.details_source.slice(SOURCE_PREFIX.length)
        : null;
    let details: unknown = null;
    if (r.details !== null) {
      try {
        details = JSON.parse(r.details);
      } catch {
        details = r.details; // kept as written
      }
    }
    return {
      id: r.id,
      time: r.time,
      actor: r.actor,
      host: r.host,
      user: r.user,
      action: r.action,
      subject: r.subject,
      details,
      sourceId: sid,
      sourceName: sid !== null ? (sources.get(sid)?.name ?? null) : null,
      targetId: t?.id ?? null,
      targetName: t?.name ?? null,
      // entries from before the repository copy existed (no rid) live in the catalog only
      stored: r.object !== null,
    };
  });
  return { entries, total, offset, actions: actions(deps.catalog) };
}

function actions(catalog: Catalog): string[] {
  return catalog.db
    .prepare<[], { action: string }>('SELECT DISTINCT action FROM audit ORDER BY action')
    .all()
    .map((r) => r.action);
}
