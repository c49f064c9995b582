import { hostname } from 'node:os';
import { BulwarkError, isBulwarkError } from '../errors.ts';
import { objectNames, type SnapshotManifest } from '../repo/format.ts';
import { getRecord, putRecord, recordLock, stamp } from '../repo/records.ts';
import type { Repository } from '../repo/repository.ts';
import type { TamperKind } from '../repo/pinned-store.ts';
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

/**
 * A version or delete marker over one of the repository's objects that Bulwark did not write: someone
 * holding the bucket keys put or deleted it (repo/pinned-store.ts). Bulwark keeps reading its own version.
 */
export interface TamperEntry {
  object: string;
  kind: TamperKind;
  /** the foreign version or delete marker ('-' on a folder) */
  versionId: string;
  /** when the server stored it (ISO), if it said */
  modified?: string;
  /** when this computer first saw it (ISO) */
  firstSeen: string;
  /** a person acknowledged it (`verify --locks --acknowledge`): it no longer stops backups */
  acknowledged: boolean;
}

export interface LockReport {
  /** false for targets without server-enforced locks (folders): nothing to prove */
  applicable: boolean;
  ok: boolean;
  /** every foreign version and delete marker seen over Bulwark's objects (acknowledged ones too) */
  tampering: TamperEntry[];
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
  'holds/',
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
    tampering: [],
    serverTime: now.toISOString(),
    objectsChecked: 0,
    snapshots: [],
    violations: [],
  };
  await repo.checkConfig();
  if (!report.applicable) {
    report.tampering = tamperEntries(repo);
    report.ok = report.tampering.every((t) => t.acknowledged);
    return report;
  }
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
  // The listings above went through the version-pinning store: every foreign version is recorded now.
  report.tampering = tamperEntries(repo);
  report.ok = report.violations.length === 0 && report.tampering.every((t) => t.acknowledged);

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

function tamperEntries(repo: Repository): TamperEntry[] {
  return repo.catalog.tampering(repo.rid).map((t) => ({
    object: t.name,
    kind: t.kind,
    versionId: t.versionId,
    ...(t.modified ? { modified: t.modified.toISOString() } : {}),
    firstSeen: new Date(t.firstSeen).toISOString(),
    acknowledged: t.acknowledgedAt !== null,
  }));
}

/**
 * A person looked at the tampering found so far (and, one hopes, replaced the leaked keys): it no longer
 * stops backups, which go on with the original, authenticated settings. Recorded in the audit log.
 */
export async function acknowledgeTampering(repo: Repository, actor?: string): Promise<number> {
  const open = repo.catalog.tampering(repo.rid, { open: true });
  if (open.length === 0) return 0;
  const n = repo.catalog.acknowledgeTampering(repo.rid);
  await recordAudit(repo, {
    ...(actor !== undefined ? { actor } : {}),
    action: 'acknowledge-tampering',
    subject: repo.config.id,
    details: { objects: [...new Set(open.map((t) => t.name))], versions: open.length },
  });
  return n;
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

/**
 * A legal hold placed on (or lifted from) one snapshot: a sealed write-once record
 * `holds/<snapshot>-<on|off>-<stamp>` (repo/records.ts), cached in the catalog table `snapshot_holds`.
 * The latest record of a snapshot is in force. Legal holds sit on objects, and snapshots share objects
 * (the config, the keys, every pack and index object dedup made common): the records say which snapshots
 * still need their objects held, so lifting one snapshot's hold never lifts another's.
 */
export interface HoldRecord {
  version: 1;
  snapshot: string;
  /** true: placed; false: lifted */
  held: boolean;
  /** when (server clock, ISO); the record's name carries it */
  time: string;
  host: string;
  actor?: string;
}

export interface HoldResult {
  snapshot: string;
  /** the snapshot's hold as now recorded */
  held: boolean;
  /** objects the snapshot needs (its closure and the snapshot object) */
  objects: number;
  /** objects whose legal hold was lifted (0 when placing) */
  released: number;
  /** objects of the snapshot left under legal hold because other held snapshots need them (lifting) */
  keptHeld: number;
  /** those other held snapshots */
  keptFor: string[];
}

/**
 * Learns the holds/ records this catalog has not seen (another computer's, or all of them after the
 * catalog was lost). A record that does not open, or whose contents do not match its name, is skipped and
 * said in `repo.warnings`. Returns how many were new.
 */
export async function syncHolds(repo: Repository, signal?: AbortSignal): Promise<number> {
  const { catalog, rid } = repo;
  let fresh = 0;
  const skip = (msg: string): void => {
    if (!repo.warnings.includes(msg)) repo.warnings.push(msg);
  };
  for await (const o of repo.store.list('holds/', signal)) {
    if (catalog.hasHoldRecord(rid, o.name)) continue;
    let rec: HoldRecord;
    try {
      rec = await getRecord<HoldRecord>(repo, 'hold', o.name, signal);
    } catch (e) {
      if (!isBulwarkError(e, 'CORRUPT') && !isBulwarkError(e, 'NOT_FOUND')) throw e;
      skip(`skipped the legal-hold record ${o.name}: ${e.message}`);
      continue;
    }
    const time = typeof rec.time === 'string' ? Date.parse(rec.time) : Number.NaN;
    // the name must say what the sealed contents say: a record cannot be passed off for another snapshot
    if (
      !Number.isFinite(time) ||
      typeof rec.snapshot !== 'string' ||
      typeof rec.held !== 'boolean' ||
      o.name !== objectNames.hold(rec.snapshot, rec.held, stamp(new Date(time)))
    ) {
      skip(`skipped the legal-hold record ${o.name}: its contents do not match its name`);
      continue;
    }
    if (catalog.addHoldRecord(rid, { object: o.name, snapshot: rec.snapshot, held: rec.held, time })) fresh++;
  }
  return fresh;
}

/** The snapshots whose latest holds/ record placed a legal hold (records synced from the repository first). */
export async function heldSnapshots(repo: Repository, signal?: AbortSignal): Promise<string[]> {
  await syncHolds(repo, signal);
  return [...repo.catalog.snapshotHolds(repo.rid).values()].filter((h) => h.held).map((h) => h.snapshot);
}

/** Writes (once) and caches a hold record for `snapshot`. Returns its name. */
async function writeHoldRecord(
  repo: Repository,
  snapshot: string,
  held: boolean,
  actor: string | undefined,
  signal: AbortSignal | undefined,
): Promise<string> {
  const now = await repo.store.serverTime();
  // strictly after the record it follows, so "the latest wins" orders a hold and its lifting within 1 ms
  const last = repo.catalog.snapshotHolds(repo.rid).get(snapshot)?.time ?? 0;
  const time = new Date(Math.max(now.getTime(), last + 1));
  const rec: HoldRecord = {
    version: 1,
    snapshot,
    held,
    time: time.toISOString(),
    host: hostname(),
    ...(actor !== undefined ? { actor } : {}),
  };
  const name = objectNames.hold(snapshot, held, stamp(time));
  await putRecord(repo, 'hold', name, rec, recordLock(repo, now), signal); // false: the same record, written before
  repo.catalog.addHoldRecord(repo.rid, { object: name, snapshot, held, time: time.getTime() });
  return name;
}

/** Every object a snapshot needs: its closure and the snapshot object itself. */
async function objectsOf(repo: Repository, s: SnapshotManifest, signal?: AbortSignal): Promise<string[]> {
  return [...(await snapshotClosure(repo, s, signal)), objectNames.snapshot(s.id)];
}

/**
 * The snapshots other than `except` that are under legal hold: those whose latest record placed it, and
 * (`legacy`) those without any record whose snapshot object the server reports held (a hold placed before
 * Bulwark wrote hold records). `unreadable`: held snapshots that are there but cannot be read (their needs
 * are unknown).
 */
async function otherHeld(
  repo: Repository,
  except: string,
  legacy: boolean,
): Promise<{ held: SnapshotManifest[]; unreadable: string[] }> {
  const holds = repo.catalog.snapshotHolds(repo.rid);
  const byId = new Map(repo.catalog.snapshots(repo.rid).map((m) => [m.id, m]));
  const held: SnapshotManifest[] = [];
  const unreadable: string[] = [];
  for (const h of holds.values()) {
    if (!h.held || h.snapshot === except) continue;
    const m = byId.get(h.snapshot);
    if (m) held.push(m);
    else if (repo.damagedSnapshots.has(h.snapshot)) unreadable.push(h.snapshot);
    // else: the snapshot is gone from the repository; nothing of it is left to hold
  }
  if (legacy) {
    const pool = new TaskPool(16);
    for (const m of byId.values()) {
      if (m.id === except || holds.has(m.id)) continue;
      await pool.add(async () => {
        try {
          if ((await repo.store.head(objectNames.snapshot(m.id))).legalHold === true) held.push(m);
        } catch (e) {
          if (!isBulwarkError(e, 'NOT_FOUND')) throw e; // gone meanwhile: holds nothing
        }
      });
    }
    await pool.drain();
  }
  return { held, unreadable };
}

/**
 * Of `objects`, those that the snapshots in `others` need, and which of those snapshots need any. A
 * snapshot that cannot be read is taken to need every object but the other snapshot objects.
 */
async function neededBy(
  repo: Repository,
  objects: readonly string[],
  others: { held: SnapshotManifest[]; unreadable: string[] },
  signal: AbortSignal | undefined,
): Promise<{ needed: Set<string>; by: Set<string> }> {
  const wanted = new Set(objects);
  const needed = new Set<string>();
  const by = new Set<string>();
  for (const m of others.held) {
    for (const n of await objectsOf(repo, m, signal)) {
      if (!wanted.has(n)) continue;
      needed.add(n);
      by.add(m.id);
    }
  }
  if (others.unreadable.length > 0) {
    for (const n of objects) if (!n.startsWith('snapshots/')) needed.add(n);
    for (const id of others.unreadable) by.add(id);
  }
  return { needed, by };
}

/**
 * Places (or lifts) a legal hold on a snapshot: on every object of its closure and the snapshot object.
 * Each change is first written as a hold record (placing: so a crash leaves no hold that no record
 * explains; lifting: so a crash leaves objects held, never released unrecorded). Lifting releases only
 * the objects no other held snapshot needs (snapshots share packs, index objects, the config and keys);
 * then it reads the records again and puts back the hold on what it released that a snapshot held
 * meanwhile on another computer needs (that computer wrote its record before setting its holds, so either
 * this re-read sees it or its holds land after these releases).
 */
export async function holdSnapshot(
  repo: Repository,
  ref: string,
  on: boolean,
  signal?: AbortSignal,
  actor?: string,
): Promise<HoldResult> {
  const { store, catalog, rid } = repo;
  if (!store.setLegalHold || !store.capabilities.legalHold) {
    throw new BulwarkError('UNSUPPORTED', `${store.location} does not support legal holds`, {
      hint: 'Legal holds need an S3 bucket with Object Lock.',
    });
  }
  const setHold = store.setLegalHold.bind(store);
  const setAll = async (names: Iterable<string>, value: boolean): Promise<void> => {
    const pool = new TaskPool(16);
    for (const n of names) await pool.add(() => setHold(n, value));
    await pool.drain();
  };
  if (!on) {
    // lifting weakens protection: not in a repository whose settings someone holding its keys replaced
    await repo.checkConfig();
    repo.assertLockInvariant();
  }
  await repo.syncIndexes(signal);
  await repo.syncSnapshots(signal);
  await syncHolds(repo, signal);
  const s = repo.resolveSnapshot(ref);
  const closure = await objectsOf(repo, s, signal);
  const prot = catalog.snapshotProtection(rid).get(s.id);
  const result: HoldResult = {
    snapshot: s.id,
    held: on,
    objects: closure.length,
    released: 0,
    keptHeld: 0,
    keptFor: [],
  };

  if (on) {
    const record = await writeHoldRecord(repo, s.id, true, actor, signal);
    await setAll(closure, true);
    catalog.setLegalHold(rid, closure, true);
    catalog.setSnapshotProtection(rid, s.id, prot?.protectedUntil ?? null, true);
    await recordAudit(repo, {
      ...(actor !== undefined ? { actor } : {}),
      action: 'hold',
      subject: s.id,
      details: { objects: closure.length, record },
    });
    return result;
  }

  const record = await writeHoldRecord(repo, s.id, false, actor, signal);
  const before = await otherHeld(repo, s.id, true);
  const { needed, by } = await neededBy(repo, closure, before, signal);
  const release = closure.filter((n) => !needed.has(n));
  await setAll(release, false);

  // A hold placed meanwhile (another computer) on a snapshot that needs what was just released: put it back.
  await syncHolds(repo, signal);
  const seen = new Set([...before.held.map((m) => m.id), ...before.unreadable]);
  const after = await otherHeld(repo, '', false);
  const fresh = {
    held: after.held.filter((m) => !seen.has(m.id)),
    unreadable: after.unreadable.filter((id) => !seen.has(id)),
  };
  let released = release;
  if (fresh.held.length + fresh.unreadable.length > 0) {
    const again = await neededBy(repo, release, fresh, signal);
    if (again.needed.size > 0) {
      await setAll(again.needed, true);
      released = release.filter((n) => !again.needed.has(n));
      for (const n of again.needed) needed.add(n);
      for (const id of again.by) by.add(id);
    }
  }
  const stillOn = catalog.snapshotHolds(rid).get(s.id)?.held === true; // held again meanwhile
  catalog.setLegalHold(rid, released, false);
  catalog.setLegalHold(rid, needed, true);
  catalog.setSnapshotProtection(rid, s.id, prot?.protectedUntil ?? null, stillOn);
  result.held = stillOn;
  result.released = released.length;
  result.keptHeld = needed.size;
  result.keptFor = [...by].filter((id) => id !== s.id).sort();
  await recordAudit(repo, {
    ...(actor !== undefined ? { actor } : {}),
    action: 'release-hold',
    subject: s.id,
    details: {
      objects: closure.length,
      released: result.released,
      keptHeld: result.keptHeld,
      keptFor: result.keptFor,
      record,
    },
  });
  return result;
}
