/**
 * The audit log (DESIGN §1: "an append-only audit log"). Every mutating operation — backup, restore,
 * forget, prune, hold, policy change, catalog rebuild — records one entry through `recordAudit`, the only
 * place that writes it: a row in the local catalog and, per operation, one write-once sealed object
 * `audit/<time>-<id>` in the repository (locked like the backups on a target with Object Lock), so the log
 * survives a lost computer and `bulwark audit` reads it from the repository alone.
 *
 * An entry whose repository copy cannot be written (target unreachable: often the very failure being
 * recorded) stays pending in the catalog and is written by the next `recordAudit` on that repository.
 */
import { hostname, userInfo } from 'node:os';
import { isBulwarkError } from '../errors.ts';
import { objectNames } from '../repo/format.ts';
import { getRecord, putRecord, recordLock, stamp } from '../repo/records.ts';
import { newObjectId, type Repository } from '../repo/repository.ts';

export interface AuditInput {
  /** which program acted: 'cli', 'service', 'app', ... */
  actor?: string;
  /** 'backup', 'restore', 'forget', 'prune', 'hold', 'release-hold', 'policy-set', ... */
  action: string;
  /** what it acted on: a snapshot id, a source, the repository id */
  subject?: string | null;
  /** JSON-serializable details (counts, outcome, error) */
  details?: unknown;
}

export interface AuditEntry {
  version: 1;
  id: string;
  /** ISO, from the server's clock when it answered, else the local clock */
  time: string;
  actor: string;
  /** origin: the computer and the account that ran the operation */
  host: string;
  user: string;
  action: string;
  subject: string | null;
  details?: unknown;
}

export interface RecordedAudit {
  entry: AuditEntry;
  /** false: the repository copy could not be written yet (kept pending in the catalog) */
  mirrored: boolean;
  /** why the repository copy failed, if it did */
  error?: string;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

interface AuditRow {
  id: number;
  time: number;
  actor: string;
  action: string;
  subject: string | null;
  details: string | null;
  host: string | null;
  user: string | null;
}

/**
 * Records one audit entry: in the catalog, then as an object in the repository (with any earlier entries
 * of this repository still pending). Never throws for the repository copy: the operation it records has
 * already happened; `mirrored` says whether the copy was written.
 */
export async function recordAudit(repo: Repository, input: AuditInput): Promise<RecordedAudit> {
  let time: Date;
  try {
    time = await repo.store.serverTime();
  } catch {
    time = repo.clock.now();
  }
  const entry: AuditEntry = {
    version: 1,
    id: newObjectId(),
    time: time.toISOString(),
    actor: input.actor ?? 'bulwark',
    host: hostname(),
    user: currentUser(),
    action: input.action,
    subject: input.subject ?? null,
    ...(input.details !== undefined ? { details: input.details } : {}),
  };
  const row = repo.catalog.db
    .prepare(
      'INSERT INTO audit (time, actor, action, subject, details, rid, host, user) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    )
    .run(
      time.getTime(),
      entry.actor,
      entry.action,
      entry.subject,
      input.details === undefined ? null : JSON.stringify(input.details),
      repo.rid,
      entry.host,
      entry.user,
    );
  const rowId = Number(row.lastInsertRowid);
  let mirrored = false;
  let error: string | undefined;
  try {
    await flushAudit(repo, { rowId, entry });
    mirrored = true;
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  return { entry, mirrored, ...(error !== undefined ? { error } : {}) };
}

/**
 * Writes every audit entry of this repository that the catalog holds but the repository does not yet
 * (oldest first). Throws the first failure; what was written stays written.
 */
export async function flushAudit(
  repo: Repository,
  current?: { rowId: number; entry: AuditEntry },
): Promise<number> {
  const db = repo.catalog.db;
  const rows = db
    .prepare<[number], AuditRow>(
      'SELECT id, time, actor, action, subject, details, host, user FROM audit WHERE rid = ? AND object IS NULL ORDER BY id',
    )
    .all(repo.rid);
  const setObject = db.prepare('UPDATE audit SET object = ? WHERE id = ?');
  let written = 0;
  for (const r of rows) {
    const entry: AuditEntry =
      current && current.rowId === r.id
        ? current.entry
        : {
            version: 1,
            id: newObjectId(),
            time: new Date(r.time).toISOString(),
            actor: r.actor,
            host: r.host ?? hostname(),
            user: r.user ?? currentUser(),
            action: r.action,
            subject: r.subject,
            ...(r.details !== null ? { details: JSON.parse(r.details) as unknown } : {}),
          };
    const name = objectNames.audit(stamp(new Date(entry.time)), entry.id);
    const now = await repo.store.serverTime();
    await putRecord(repo, 'audit', name, entry, recordLock(repo, now));
    setObject.run(name, r.id);
    written++;
  }
  return written;
}

export interface AuditLog {
  /** oldest first */
  entries: AuditEntry[];
  /** audit objects that failed to decrypt (altered, damaged or foreign) */
  damaged: string[];
}

/** Reads the audit log from the repository (not the catalog): it survives a lost computer. */
export async function readAuditLog(repo: Repository, signal?: AbortSignal): Promise<AuditLog> {
  const out: AuditLog = { entries: [], damaged: [] };
  const names: string[] = [];
  for await (const o of repo.store.list('audit/', signal)) names.push(o.name);
  names.sort();
  for (const name of names) {
    try {
      const e = await getRecord<AuditEntry>(repo, 'audit', name, signal);
      if (typeof e.action !== 'string' || typeof e.time !== 'string' || !name.endsWith(e.id)) {
        out.damaged.push(name);
        continue;
      }
      out.entries.push(e);
    } catch (e) {
      if (isBulwarkError(e, 'CORRUPT')) out.damaged.push(name);
      else if (!isBulwarkError(e, 'NOT_FOUND')) throw e;
    }
  }
  out.entries.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : 1));
  return out;
}
