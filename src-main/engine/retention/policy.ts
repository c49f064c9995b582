/**
 * Retention policies (DESIGN §1, §3): which snapshots of a source are kept, and which lock period each
 * kept snapshot needs. Pure: no I/O and no clock (the caller passes `now`, from the injected clock).
 *
 * Semantics (restic's `forget --keep-*`, evaluated separately for every source):
 * - Snapshots are ordered newest first (equal times: by id, so the result is deterministic).
 * - keepLast N keeps the N newest snapshots.
 * - keepHourly/Daily/Weekly/Monthly/Yearly N keeps, for each of the N most recent hours/days/weeks/months/
 *   years *that have a snapshot*, the newest snapshot in it. A period without a backup is skipped and does
 *   not use up a count (as in restic), so a holiday shutdown does not thin out the history.
 *   Unlike restic ≥ 0.17 this does not additionally keep the oldest snapshot while counts are left over.
 * - Periods are calendar periods of the wall clock in `policy.timeZone` (computed with Intl.DateTimeFormat):
 *   a backup at 23:30 local time on Feb 29 belongs to Feb 29 and to February even where UTC is already
 *   March 1. Days are wall-clock dates, so the 23- and 25-hour days of a DST change are one day each.
 *   Weeks are ISO weeks (Monday to Sunday; the week of Dec 28 2026 – Jan 3 2027 is 2026-W53).
 *   Hours are wall-clock hours: in the repeated hour of a fall-back change (02:00–02:59 twice in Berlin)
 *   both passes share one hourly bucket.
 * - keepWithinDays D keeps every snapshot whose time is strictly after (reference − D × 24 h), where the
 *   reference is the newest snapshot of that source that is not after `now`, or `now` when there is none.
 *   As in restic, the window hangs off the newest backup rather than off `now`, so when backups stop
 *   (a broken machine, a lost target) the recent history is not forgotten day by day. D × 24 h is elapsed
 *   time, not calendar days: across a DST change the window's start is one wall-clock hour off.
 * - A kept snapshot's `reasons` list every rule that keeps it; its `tier` is the longest of them
 *   (yearly > monthly > weekly > daily > hourly > last > within). Tiers below weekly lock like daily.
 *
 * The newest snapshot is always the keeper of the current (unfinished) day, week, month and year, and
 * loses that role when the next backup runs. Extending locks by `tier` would therefore give every backup
 * the yearly lock in turn. `lockTier` is what to lock for: the longest tier whose period has ended by
 * `now` (so its keeper can no longer change), otherwise 'daily'. A year's keeper is promoted to the yearly
 * lock once the year is over, while its daily lock (counted from its commit) still holds it.
 *
 * `forget` means the policy no longer needs the snapshot. Its objects are deleted only when their locks
 * have expired (prune never touches a locked object), whatever the policy says.
 */
import { BulwarkError } from '../errors.ts';

export type Tier = 'yearly' | 'monthly' | 'weekly' | 'daily' | 'hourly' | 'last' | 'within';
/** The tiers that have their own lock period; every other tier locks like 'daily'. */
export type LockTier = 'yearly' | 'monthly' | 'weekly' | 'daily';

export interface LockDays {
  daily: number;
  weekly: number;
  monthly: number;
  yearly: number;
}

export interface RetentionPolicy {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  keepWithinDays?: number;
  /** lock period in days for snapshots of each tier (daily ≤ weekly ≤ monthly ≤ yearly) */
  lockDays: LockDays;
  /** IANA time zone ('Europe/Berlin') in which days, weeks, months and years are counted */
  timeZone: string;
}

/** What the policy needs of a snapshot (a SnapshotManifest fits). */
export interface RetentionSnapshot {
  id: string;
  /** ISO 8601 with a zone designator ('Z' or '+01:00') */
  time: string;
  source: string;
}

export interface KeptSnapshot {
  id: string;
  /** every rule that keeps it, in the order last, hourly, daily, weekly, monthly, yearly, within */
  reasons: Tier[];
  /** the longest of `reasons` */
  tier: Tier;
  /** the tier to lock it for now: the longest reason whose period has ended by `now`, else 'daily' */
  lockTier: LockTier;
}

export interface RetentionResult {
  /** newest first */
  keep: KeptSnapshot[];
  /** newest first */
  forget: { id: string }[];
}

export interface BucketKeys {
  /** '2026-10-25T02' (wall-clock hour, 00–23) */
  hour: string;
  /** '2026-10-25' */
  day: string;
  /** ISO week: '2026-W53' (the ISO week-year can differ from the calendar year around Jan 1) */
  week: string;
  /** '2026-10' */
  month: string;
  /** '2026' */
  year: string;
}

const DAY_MS = 86_400_000;
/** Lock periods above this are refused as typos: in COMPLIANCE mode nobody can shorten them. */
export const MAX_LOCK_DAYS = 36_525;

const COUNT_FIELDS = [
  'keepLast',
  'keepHourly',
  'keepDaily',
  'keepWeekly',
  'keepMonthly',
  'keepYearly',
  'keepWithinDays',
] as const;

const LOCK_TIERS = ['daily', 'weekly', 'monthly', 'yearly'] as const;

const TIER_RANK: Record<Tier, number> = {
  within: 0,
  last: 1,
  hourly: 2,
  daily: 3,
  weekly: 4,
  monthly: 5,
  yearly: 6,
};

/** Lock period in days for a snapshot kept at `tier`: hourly, last and within snapshots lock like dailies. */
export function lockDaysFor(tier: Tier, policy: RetentionPolicy): number {
  switch (tier) {
    case 'yearly':
    case 'monthly':
    case 'weekly':
    case 'daily':
      return policy.lockDays[tier];
    default:
      return policy.lockDays.daily;
  }
}

function invalid(message: string, hint: string): BulwarkError {
  return new BulwarkError('INVALID_ARGUMENT', `retention policy: ${message}`, { hint });
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      calendar: 'gregory',
      numberingSystem: 'latn',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws INVALID_ARGUMENT unless `timeZone` is a time zone name the runtime knows. */
function checkTimeZone(timeZone: unknown): void {
  const hint = 'Use a time zone name such as Europe/Berlin or America/New_York.';
  if (typeof timeZone !== 'string' || timeZone === '') throw invalid('no time zone given', hint);
  // '+01:00' is accepted by Intl but has no summer time: days would shift by an hour half the year
  if (/^[+-]/.test(timeZone)) {
    throw invalid(`"${timeZone}" is a fixed UTC offset, not a time zone`, hint);
  }
  try {
    formatter(timeZone);
  } catch (e) {
    throw new BulwarkError('INVALID_ARGUMENT', `retention policy: unknown time zone "${timeZone}"`, {
      hint,
      cause: e,
    });
  }
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** ISO 8601 week of a calendar date: the week (Monday to Sunday) belongs to the year of its Thursday. */
function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  const mondayBased = (date.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const thursday = new Date(date.getTime() + (3 - mondayBased) * DAY_MS);
  const weekYear = thursday.getUTCFullYear();
  const jan1 = new Date(0);
  jan1.setUTCFullYear(weekYear, 0, 1);
  return { year: weekYear, week: Math.floor((thursday.getTime() - jan1.getTime()) / (7 * DAY_MS)) + 1 };
}

/**
 * The hour, day, ISO week, month and year `time` falls in, on the wall clock of `timeZone`.
 * Keys of one kind sort chronologically as strings.
 */
export function bucketKeys(time: Date, timeZone: string): BucketKeys {
  if (Number.isNaN(time.getTime())) {
    throw new BulwarkError('INVALID_ARGUMENT', 'retention: invalid date');
  }
  checkTimeZone(timeZone);
  const fields: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of formatter(timeZone).formatToParts(time)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const { year, month, day, hour } = fields;
  if (
    year === undefined ||
    month === undefined ||
    day === undefined ||
    hour === undefined ||
    ![year, month, day, hour].every(Number.isInteger)
  ) {
    throw new BulwarkError('INTERNAL', `retention: cannot read the local date of ${time.toISOString()}`);
  }
  const w = isoWeek(year, month, day);
  const y = pad(year, 4);
  const ymd = `${y}-${pad(month, 2)}-${pad(day, 2)}`;
  return {
    hour: `${ymd}T${pad(hour, 2)}`,
    day: ymd,
    week: `${pad(w.year, 4)}-W${pad(w.week, 2)}`,
    month: `${y}-${pad(month, 2)}`,
    year: y,
  };
}

/**
 * Throws BulwarkError('INVALID_ARGUMENT') for: a count or lock that is negative or not a whole number,
 * a policy that keeps nothing, an unknown time zone (or a bare UTC offset), a lock period longer than
 * MAX_LOCK_DAYS, or a tier locked for less time than a shorter tier (daily ≤ weekly ≤ monthly ≤ yearly).
 */
export function validatePolicy(policy: RetentionPolicy): void {
  for (const field of COUNT_FIELDS) {
    const v: unknown = policy[field];
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= 0)) {
      throw invalid(
        `${field} must be a whole number, 0 or more (got ${String(v)})`,
        'Enter how many backups (or days) to keep; 0 switches this rule off.',
      );
    }
  }
  if (COUNT_FIELDS.every((field) => (policy[field] ?? 0) === 0)) {
    throw invalid(
      'it keeps no backups',
      'Set at least one rule, for example keep one backup per day for 14 days.',
    );
  }
  const lockDays: unknown = policy.lockDays;
  if (typeof lockDays !== 'object' || lockDays === null) {
    throw invalid('lockDays is missing', 'Set a lock period for daily, weekly, monthly and yearly backups.');
  }
  for (const tier of LOCK_TIERS) {
    const v: unknown = policy.lockDays[tier];
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_LOCK_DAYS)) {
      throw invalid(
        `lockDays.${tier} must be a whole number of days from 0 to ${MAX_LOCK_DAYS} (got ${String(v)})`,
        'Locked backups cannot be deleted by anyone until the lock ends; enter the period in days.',
      );
    }
  }
  for (let i = 1; i < LOCK_TIERS.length; i++) {
    const shorter = LOCK_TIERS[i - 1] as LockTier;
    const longer = LOCK_TIERS[i] as LockTier;
    if (policy.lockDays[longer] < policy.lockDays[shorter]) {
      throw invalid(
        `the ${longer} lock (${policy.lockDays[longer]} days) is shorter than the ${shorter} lock ` +
          `(${policy.lockDays[shorter]} days)`,
        `A ${longer} backup stands for a longer stretch of history than a ${shorter} one, so lock it at least as long.`,
      );
    }
  }
  checkTimeZone(policy.timeZone);
}

interface Entry {
  id: string;
  ms: number;
  keys: BucketKeys;
}

type BucketKind = keyof BucketKeys;

const BUCKET_RULES: { tier: Tier; field: (typeof COUNT_FIELDS)[number]; kind: BucketKind }[] = [
  { tier: 'hourly', field: 'keepHourly', kind: 'hour' },
  { tier: 'daily', field: 'keepDaily', kind: 'day' },
  { tier: 'weekly', field: 'keepWeekly', kind: 'week' },
  { tier: 'monthly', field: 'keepMonthly', kind: 'month' },
  { tier: 'yearly', field: 'keepYearly', kind: 'year' },
];

const LOCK_PERIOD: { tier: LockTier; kind: BucketKind }[] = [
  { tier: 'yearly', kind: 'year' },
  { tier: 'monthly', kind: 'month' },
  { tier: 'weekly', kind: 'week' },
];

const newestFirst = (a: Entry, b: Entry): number => b.ms - a.ms || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function parseTime(s: RetentionSnapshot): number {
  // a time without a zone would be read in the process's zone: refuse it rather than guess
  const ms =
    typeof s.time === 'string' && /T.*(Z|[+-]\d{2}:?\d{2})$/i.test(s.time) ? Date.parse(s.time) : NaN;
  if (Number.isNaN(ms)) {
    throw new BulwarkError('INVALID_ARGUMENT', `snapshot ${s.id}: invalid time "${String(s.time)}"`);
  }
  return ms;
}

/** One source's snapshots, newest first: the reasons to keep each (an empty list: forget). */
function evaluate(entries: Entry[], policy: RetentionPolicy, nowMs: number): Tier[][] {
  const reasons: Tier[][] = entries.map(() => []);

  const last = policy.keepLast ?? 0;
  for (let i = 0; i < entries.length && i < last; i++) reasons[i]?.push('last');

  for (const rule of BUCKET_RULES) {
    let left = policy[rule.field] ?? 0;
    // a set, not restic's "differs from the previous key": correct even if local time ever ran backwards
    const seen = new Set<string>();
    entries.forEach((e, i) => {
      const key = e.keys[rule.kind];
      if (left > 0 && !seen.has(key)) {
        seen.add(key);
        left--;
        reasons[i]?.push(rule.tier);
      }
    });
  }

  const withinDays = policy.keepWithinDays ?? 0;
  if (withinDays > 0) {
    const reference = entries.find((e) => e.ms <= nowMs)?.ms ?? nowMs;
    const cutoff = reference - withinDays * DAY_MS;
    entries.forEach((e, i) => {
      if (e.ms > cutoff) reasons[i]?.push('within');
    });
  }
  return reasons;
}

/**
 * Applies `policy` to the snapshots of every source separately (see the module comment for the rules).
 * Throws INVALID_ARGUMENT for an invalid policy, an invalid `now`, a snapshot time without a zone, or
 * duplicate ids.
 */
export function applyPolicy(
  snapshots: readonly RetentionSnapshot[],
  policy: RetentionPolicy,
  now: Date,
): RetentionResult {
  validatePolicy(policy);
  const nowMs = now.getTime();
  const nowKeys = bucketKeys(now, policy.timeZone);

  const bySource = new Map<string, Entry[]>();
  const ids = new Set<string>();
  for (const s of snapshots) {
    if (ids.has(s.id)) throw new BulwarkError('INVALID_ARGUMENT', `snapshot ${s.id} is listed twice`);
    ids.add(s.id);
    const ms = parseTime(s);
    const entry: Entry = { id: s.id, ms, keys: bucketKeys(new Date(ms), policy.timeZone) };
    const list = bySource.get(s.source);
    if (list === undefined) bySource.set(s.source, [entry]);
    else list.push(entry);
  }

  const kept: (KeptSnapshot & { entry: Entry })[] = [];
  const forgotten: Entry[] = [];
  for (const entries of bySource.values()) {
    entries.sort(newestFirst);
    const reasons = evaluate(entries, policy, nowMs);
    entries.forEach((entry, i) => {
      const r = reasons[i] ?? [];
      if (r.length === 0) {
        forgotten.push(entry);
        return;
      }
      const tier = r.reduce((a, b) => (TIER_RANK[b] > TIER_RANK[a] ? b : a));
      // only a finished period's keeper is final (and never for a snapshot dated after `now`)
      const lockTier =
        LOCK_PERIOD.find(
          (p) => r.includes(p.tier) && entry.ms <= nowMs && entry.keys[p.kind] < nowKeys[p.kind],
        )?.tier ?? 'daily';
      kept.push({ id: entry.id, reasons: r, tier, lockTier, entry });
    });
  }

  kept.sort((a, b) => newestFirst(a.entry, b.entry));
  forgotten.sort(newestFirst);
  return {
    keep: kept.map(({ id, reasons, tier, lockTier }) => ({ id, reasons, tier, lockTier })),
    forget: forgotten.map(({ id }) => ({ id })),
  };
}
