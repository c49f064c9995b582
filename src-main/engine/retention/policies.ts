/**
 * Where retention policies live. Each change of a source's policy is one write-once sealed object
 * `policies/<id>` in the repository (so a rebuilt catalog, or another computer, gets it back), cached in
 * the catalog table `retention_policies`. The newest change of a source (by the server time it was made,
 * then by id) is in force.
 */
import { hostname } from 'node:os';
import { recordAudit } from '../audit/audit.ts';
import { BulwarkError, isBulwarkError } from '../errors.ts';
import { objectNames } from '../repo/format.ts';
import { getRecord, putRecord, recordLock } from '../repo/records.ts';
import { newObjectId, type Repository } from '../repo/repository.ts';
import { validatePolicy, type RetentionPolicy } from './policy.ts';

export interface PolicyRecord {
  version: 1;
  id: string;
  /** when it was set (server clock, ISO) */
  time: string;
  source: string;
  policy: RetentionPolicy;
  /** the template it was made from, if any */
  template?: string;
  host: string;
  actor: string;
}

/** Learns policy changes made elsewhere (other computers, before a catalog was lost). Returns how many. */
export async function syncPolicies(repo: Repository, signal?: AbortSignal): Promise<number> {
  const db = repo.catalog.db;
  const known = db.prepare<[number, string], { x: number }>(
    'SELECT 1 AS x FROM retention_policies WHERE rid = ? AND object = ?',
  );
  const insert = db.prepare(
    'INSERT OR IGNORE INTO retention_policies (rid, object, source, time, policy) VALUES (?, ?, ?, ?, ?)',
  );
  let fresh = 0;
  for await (const o of repo.store.list('policies/', signal)) {
    if (known.get(repo.rid, o.name)) continue;
    let rec: PolicyRecord;
    try {
      rec = await getRecord<PolicyRecord>(repo, 'policy', o.name, signal);
    } catch (e) {
      // a damaged or foreign object is not a policy; the others still apply
      if (isBulwarkError(e, 'CORRUPT') || isBulwarkError(e, 'NOT_FOUND')) continue;
      throw e;
    }
    if (o.name !== objectNames.policy(rec.id) || typeof rec.source !== 'string') continue;
    insert.run(repo.rid, o.name, rec.source, Date.parse(rec.time), JSON.stringify(rec));
    fresh++;
  }
  return fresh;
}

function latest(repo: Repository): Map<string, PolicyRecord> {
  const rows = repo.catalog.db
    .prepare<[number], { policy: string }>(
      'SELECT policy FROM retention_policies WHERE rid = ? ORDER BY source, time, object',
    )
    .all(repo.rid);
  const out = new Map<string, PolicyRecord>();
  for (const r of rows) {
    const rec = JSON.parse(r.policy) as PolicyRecord;
    out.set(rec.source, rec); // ordered by time: the last one wins
  }
  return out;
}

/**
 * Sets the retention policy of `source` (a snapshot's `source`, e.g. what `bulwark backup --source` named).
 * Validates it, writes it to the repository, caches it and records the change in the audit log.
 */
export async function setRetentionPolicy(
  repo: Repository,
  source: string,
  policy: RetentionPolicy,
  opts: { template?: string; actor?: string; signal?: AbortSignal } = {},
): Promise<PolicyRecord> {
  if (source === '') throw new BulwarkError('INVALID_ARGUMENT', 'retention policy: no source given');
  validatePolicy(policy);
  const now = await repo.store.serverTime();
  const previous = (await getRetentionPolicy(repo, source, opts.signal))?.policy;
  const rec: PolicyRecord = {
    version: 1,
    id: newObjectId(),
    time: now.toISOString(),
    source,
    policy,
    ...(opts.template !== undefined ? { template: opts.template } : {}),
    host: hostname(),
    actor: opts.actor ?? 'bulwark',
  };
  const name = objectNames.policy(rec.id);
  await putRecord(repo, 'policy', name, rec, recordLock(repo, now), opts.signal);
  repo.catalog.db
    .prepare('INSERT INTO retention_policies (rid, object, source, time, policy) VALUES (?, ?, ?, ?, ?)')
    .run(repo.rid, name, source, now.getTime(), JSON.stringify(rec));
  await recordAudit(repo, {
    ...(opts.actor !== undefined ? { actor: opts.actor } : {}),
    action: 'policy-set',
    subject: source,
    details: { policy, ...(opts.template !== undefined ? { template: opts.template } : {}), previous },
  });
  return rec;
}

/** The policy in force for `source`, or undefined (its snapshots are then never forgotten). */
export async function getRetentionPolicy(
  repo: Repository,
  source: string,
  signal?: AbortSignal,
): Promise<PolicyRecord | undefined> {
  await syncPolicies(repo, signal);
  return latest(repo).get(source);
}

/** Every source's policy in force, by source. */
export async function listRetentionPolicies(
  repo: Repository,
  signal?: AbortSignal,
): Promise<Map<string, PolicyRecord>> {
  await syncPolicies(repo, signal);
  return latest(repo);
}
