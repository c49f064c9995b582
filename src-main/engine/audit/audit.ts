/**
 * The audit log (DESIGN §1: "an append-only audit log"). Every mutating operation — backup, restore,
 * forget, prune, hold, policy change, catalog rebuild — records one entry through `recordAudit`, the only
 * place that writes it: a row in the local catalog and, per operation, one write-once sealed object
 * `audit/<time>-<id>` in the repository (locked like the backups on a target with Object Lock), so the log
 * survives a lost computer and `bulwark audit` reads it from the repository alone.
 *
 * An entry whose repository copy cannot be written (target unreachable: often the very failure being
 * recorded) stays pending in the catalog and is written by the next `recordAudit` on that repository.
 *
 * The log is hash-chained per writer (one catalog on one computer, per repository): each entry carries the
 * writer's id, its sequence number and the keyed hash (repo.chainHash) of the writer's previous entry, so
 * a removed or altered entry shows as a gap (`checkAuditLog`, run by verify). Entries of several
 * computers interleave in time; each writer's chain is complete on its own. An entry's place in the chain
 * is fixed in the catalog before its first write, so a retried write puts the very same object.
 */
import { hostname, userInfo } from 'node:os';
import { isBulwarkError } from '../errors.ts';
import { objectNames } from '../repo/format.ts';
import { getRecord, parseStamp, putRecord, recordLock, stamp } from '../repo/records.ts';
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
  /** the hash chain (absent in entries written before it): who wrote it, its place, and the hash of the previous one */
  writer?: string;
  seq?: number;
  /** chainHash of the writer's previous entry (JSON as sealed); absent for its first */
  prev?: string;
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
    // No account entry for this uid (a container): nothing is lost, the login name comes from the environment.
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
    // Target unreachable (often what is being recorded): the entry says the local time (AuditEntry.time).
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
  const current = { rowId: Number(row.lastInsertRowid), entry };
  let mirrored = false;
  let error: string | undefined;
  try {
    await flushAudit(repo, current);
    mirrored = true;
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  return { entry: current.entry, mirrored, ...(error !== undefined ? { error } : {}) };
}

/**
 * Writes every audit entry of this repository that the catalog holds but the repository does not yet
 * (oldest first). Throws the first failure; what was written stays written. `current` (the entry just
 * recorded) gets its chained form.
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
    const entry = chainEntry(repo, r, current && current.rowId === r.id ? current.entry : undefined);
    if (current && current.rowId === r.id) current.entry = entry;
    const name = objectNames.audit(stamp(new Date(entry.time)), entry.id);
    const now = await repo.store.serverTime();
    // false: written before (a retry after a lost answer, or another process): the same object, fine
    await putRecord(repo, 'audit', name, entry, recordLock(repo, now));
    setObject.run(name, r.id);
    written++;
  }
  return written;
}

/**
 * The entry of one catalog row with its place in this writer's chain: fixed (stored in the row) the first
 * time, in one immediate transaction, so two processes on one catalog never give out a number twice and a
 * retried write puts the identical object.
 */
function chainEntry(repo: Repository, r: AuditRow, fresh: AuditEntry | undefined): AuditEntry {
  const db = repo.catalog.db;
  return db
    .transaction((): AuditEntry => {
      const fixed = db
        .prepare<[number], { entry: string | null }>('SELECT entry FROM audit WHERE id = ?')
        .get(r.id);
      if (fixed?.entry) return JSON.parse(fixed.entry) as AuditEntry;
      const base: AuditEntry = fresh ?? {
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
      let chain = db
        .prepare<[number], { writer: string; seq: number; hash: string | null }>(
          'SELECT writer, seq, hash FROM audit_chain WHERE rid = ?',
        )
        .get(repo.rid);
      if (!chain) {
        chain = { writer: newObjectId(), seq: 0, hash: null };
        db.prepare('INSERT INTO audit_chain (rid, writer, seq, hash) VALUES (?, ?, 0, NULL)').run(
          repo.rid,
          chain.writer,
        );
      }
      const entry: AuditEntry = {
        ...base,
        writer: chain.writer,
        seq: chain.seq + 1,
        ...(chain.hash !== null ? { prev: chain.hash } : {}),
      };
      const text = JSON.stringify(entry);
      db.prepare('UPDATE audit_chain SET seq = ?, hash = ? WHERE rid = ?').run(
        entry.seq,
        entryHash(repo, entry),
        repo.rid,
      );
      db.prepare('UPDATE audit SET entry = ? WHERE id = ?').run(text, r.id);
      return entry;
    })
    .immediate();
}

/** The keyed hash the next entry of the same writer records: of the entry's JSON exactly as sealed. */
function entryHash(repo: Repository, entry: AuditEntry): string {
  return repo.chainHash(Buffer.from(JSON.stringify(entry)));
}

export interface AuditLog {
  /** oldest first */
  entries: AuditEntry[];
  /** audit objects that failed to decrypt (altered, damaged or foreign) */
  damaged: string[];
}

/** Every audit object, read and checked; oldest name first. */
async function readAuditObjects(
  repo: Repository,
  signal?: AbortSignal,
): Promise<{ read: { name: string; entry: AuditEntry }[]; damaged: { name: string; message: string }[] }> {
  const names: string[] = [];
  for await (const o of repo.store.list('audit/', signal)) names.push(o.name);
  names.sort();
  const read: { name: string; entry: AuditEntry }[] = [];
  const damaged: { name: string; message: string }[] = [];
  for (const name of names) {
    try {
      const e = await getRecord<AuditEntry>(repo, 'audit', name, signal);
      if (typeof e.action !== 'string' || typeof e.time !== 'string' || !name.endsWith(e.id)) {
        damaged.push({ name, message: 'not an audit entry of this name (altered or foreign)' });
        continue;
      }
      read.push({ name, entry: e });
    } catch (e) {
      if (!isBulwarkError(e, 'CORRUPT') && !isBulwarkError(e, 'NOT_FOUND')) throw e;
      // listed, then unreadable or gone when read: either way it is not in the log, and said so
      damaged.push({ name, message: e.message });
    }
  }
  return { read, damaged };
}

const byTime = (a: AuditEntry, b: AuditEntry): number =>
  a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : 1;

/** Reads the audit log from the repository (not the catalog): it survives a lost computer. */
export async function readAuditLog(repo: Repository, signal?: AbortSignal): Promise<AuditLog> {
  const { read, damaged } = await readAuditObjects(repo, signal);
  return { entries: read.map((r) => r.entry).sort(byTime), damaged: damaged.map((d) => d.name) };
}

/** One thing wrong with the audit log (verify reports each). */
export interface AuditFinding {
  /** damaged: an object that does not decrypt; gap: entries missing or altered in a writer's chain */
  kind: 'damaged' | 'gap';
  object: string;
  message: string;
}

export interface AuditCheck {
  entries: number;
  /** entries written before the log was chained: read, but no gap among them can be seen */
  unchained: number;
  findings: AuditFinding[];
}

/**
 * Checks the audit log from the repository: every object decrypts, and each writer's chain is complete
 * (sequence numbers 1..n, each entry recording the hash of its predecessor). A gap is reported with the
 * time range it lies in. The end of a chain can only be checked by its own writer: this catalog knows how
 * many entries it wrote, so entries removed from the end of its own chain are found too.
 */
export async function checkAuditLog(repo: Repository, signal?: AbortSignal): Promise<AuditCheck> {
  const { read, damaged } = await readAuditObjects(repo, signal);
  const findings: AuditFinding[] = damaged.map((d) => ({
    kind: 'damaged',
    object: d.name,
    message: `audit entry unreadable (altered, damaged or foreign): ${d.message}`,
  }));
  const damagedTimes = damaged.map((d) => ({
    name: d.name,
    time: parseStamp(d.name.slice('audit/'.length).split('-')[0] ?? '')?.toISOString(),
  }));
  const writers = new Map<string, Map<number, { name: string; entry: AuditEntry }[]>>();
  let unchained = 0;
  for (const r of read) {
    const { writer, seq } = r.entry;
    if (typeof writer !== 'string' || typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1) {
      unchained++;
      continue;
    }
    const chain = writers.get(writer) ?? new Map<number, { name: string; entry: AuditEntry }[]>();
    writers.set(writer, chain);
    const at = chain.get(seq) ?? [];
    at.push(r); // a write retried after a lost answer may leave two: any of them may be the predecessor
    chain.set(seq, at);
  }

  // This catalog's own chain: how far it has written (its entries removed from the end show no gap).
  const own = repo.catalog.db
    .prepare<[number], { writer: string }>('SELECT writer FROM audit_chain WHERE rid = ?')
    .get(repo.rid);
  const ownWritten = repo.catalog.db
    .prepare<[number], { entry: string }>(
      'SELECT entry FROM audit WHERE rid = ? AND object IS NOT NULL AND entry IS NOT NULL ORDER BY id DESC LIMIT 1',
    )
    .get(repo.rid);
  const ownLast = ownWritten ? (JSON.parse(ownWritten.entry) as AuditEntry) : undefined;
  if (own && ownLast?.writer === own.writer && ownLast.seq !== undefined && !writers.has(own.writer))
    writers.set(own.writer, new Map());

  for (const [writer, chain] of writers) {
    const seqs = [...chain.keys()].sort((a, b) => a - b);
    const any = chain.get(seqs[0] ?? 0)?.[0]?.entry ?? ownLast;
    const who = `${any?.user ?? '?'}@${any?.host ?? '?'} (writer ${writer.slice(0, 8)})`;
    const last = seqs.at(-1) ?? 0;
    const end = own?.writer === writer && ownLast?.seq !== undefined ? Math.max(ownLast.seq, last) : last;
    const timeOf = (seq: number): string | undefined => chain.get(seq)?.[0]?.entry.time;
    const suspects = (from: string | undefined, to: string | undefined): string => {
      const hit = damagedTimes
        .filter((d) => d.time !== undefined && (!from || d.time >= from) && (!to || d.time <= to))
        .map((d) => d.name);
      return hit.length > 0 ? ` (unreadable in that range: ${hit.join(', ')})` : '';
    };
    // gaps in the sequence numbers, the end included where this catalog knows it
    let expected = 1;
    for (const seq of [...seqs, end + 1]) {
      if (seq > expected) {
        const from = timeOf(expected - 1);
        const to = seq <= last ? timeOf(seq) : undefined;
        const count = seq - expected;
        const range =
          from && to
            ? `between ${from} and ${to}`
            : from
              ? `after ${from} (the newest entries this computer wrote)`
              : to
                ? `before ${to}`
                : 'at an unknown time';
        findings.push({
          kind: 'gap',
          object: `audit/ of ${who}`,
          message:
            `${count === 1 ? `audit entry ${expected} is` : `audit entries ${expected} to ${seq - 1} are`} missing ` +
            `(removed or unreadable); written ${range}${suspects(from, to)}`,
        });
      }
      expected = seq + 1;
    }
    // each entry must follow the one before it
    for (const seq of seqs) {
      const before = chain.get(seq - 1);
      for (const { name, entry } of chain.get(seq) ?? []) {
        if (seq === 1) {
          if (entry.prev === undefined) continue;
        } else if (!before)
          continue; // a gap, reported above
        else if (before.some((p) => entryHash(repo, p.entry) === entry.prev)) continue;
        const from = before?.[0]?.entry.time;
        findings.push({
          kind: 'gap',
          object: name,
          message:
            `audit entry ${seq} does not follow the entry before it in the chain of ${who}: that entry was altered or replaced` +
            (from ? ` (written between ${from} and ${entry.time})` : ''),
        });
      }
    }
  }
  return { entries: read.length, unchained, findings };
}
