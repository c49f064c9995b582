import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src-main/engine/clock.ts';
import { isBulwarkError } from '../../../src-main/engine/errors.ts';
import {
  applyPolicy,
  bucketKeys,
  lockDaysFor,
  validatePolicy,
  type BucketKeys,
  type KeptSnapshot,
  type LockTier,
  type RetentionPolicy,
  type RetentionSnapshot,
  type Tier,
} from '../../../src-main/engine/retention/policy.ts';
import {
  describePolicy,
  formatDays,
  retentionTemplate,
  retentionTemplates,
  years,
} from '../../../src-main/engine/retention/templates.ts';

// ---------------------------------------------------------------------------------------------------------
// Independent calendar helpers. They never use Intl or the code under test: local dates are day numbers
// (days since 1970-01-01 of the calendar date), and each zone's summer time follows its written rule.
// ---------------------------------------------------------------------------------------------------------

const DAY = 86_400_000;
const HOUR = 3_600_000;

type Zone = 'Europe/Berlin' | 'America/New_York';

const dayNum = (y: number, m: number, d: number): number => Date.UTC(y, m - 1, d) / DAY;
const ymd = (n: number): { y: number; m: number; d: number } => {
  const t = new Date(n * DAY);
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
};
/** Monday 0 … Sunday 6 */
const weekday = (n: number): number => (new Date(n * DAY).getUTCDay() + 6) % 7;
const lastDayOfMonth = (y: number, m: number): number => dayNum(y, m + 1, 1) - 1;
/** The n-th Sunday of a month (n ≥ 1), or its last Sunday (n = -1), as a day number. */
function sunday(y: number, m: number, n: number): number {
  if (n < 0) {
    const last = lastDayOfMonth(y, m);
    return last - ((weekday(last) + 1) % 7);
  }
  const first = dayNum(y, m, 1);
  return first + ((6 - weekday(first) + 7) % 7) + 7 * (n - 1);
}

/** Summer time, by law: EU from the last Sunday of March to the last Sunday of October, 01:00 UTC;
 * US from the 2nd Sunday of March 02:00 EST to the 1st Sunday of November 02:00 EDT. */
const ZONES: Record<
  Zone,
  { std: number; dst: number; start: (y: number) => number; end: (y: number) => number }
> = {
  'Europe/Berlin': {
    std: 1,
    dst: 2,
    start: (y) => sunday(y, 3, -1) * DAY + 1 * HOUR,
    end: (y) => sunday(y, 10, -1) * DAY + 1 * HOUR,
  },
  'America/New_York': {
    std: -5,
    dst: -4,
    start: (y) => sunday(y, 3, 2) * DAY + 7 * HOUR,
    end: (y) => sunday(y, 11, 1) * DAY + 6 * HOUR,
  },
};

/** The UTC instant of an unambiguous local wall-clock time (throws for a skipped or repeated time). */
function localToUtc(zone: Zone, y: number, m: number, d: number, h: number, mi: number): number {
  const z = ZONES[zone];
  const wall = Date.UTC(y, m - 1, d, h, mi);
  const fits = [z.dst, z.std]
    .map((offset) => ({ offset, ms: wall - offset * HOUR }))
    .filter(({ offset, ms }) => {
      const year = new Date(ms).getUTCFullYear();
      const summer = ms >= z.start(year) && ms < z.end(year);
      return summer === (offset === z.dst);
    });
  if (fits.length !== 1 || fits[0] === undefined) {
    throw new Error(`${zone} ${y}-${m}-${d} ${h}:${mi} is not a unique local time`);
  }
  return fits[0].ms;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const pad2 = (n: number): string => String(n).padStart(2, '0');
const dateLabel = (n: number): string => {
  const { y, m, d } = ymd(n);
  return `${y}-${pad2(m)}-${pad2(d)}`;
};

const BASE: RetentionPolicy = {
  lockDays: { daily: 30, weekly: 90, monthly: 366, yearly: 1096 },
  timeZone: 'Europe/Berlin',
};
const policy = (p: Partial<RetentionPolicy>): RetentionPolicy => ({ ...BASE, ...p });

const snap = (id: string, time: string, source = 'docs'): RetentionSnapshot => ({ id, time, source });
const keptIds = (kept: KeptSnapshot[]): string[] => kept.map((k) => k.id);

function expectInvalid(f: () => unknown, fragment: string): void {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(isBulwarkError(error, 'INVALID_ARGUMENT'), String(error)).toBe(true);
  expect((error as Error).message).toContain(fragment);
}

describe('test helpers (the independent zone rules)', () => {
  it.each([
    ['Europe/Berlin', 2026, '2026-03-29T01:00:00.000Z', '2026-10-25T01:00:00.000Z'],
    ['Europe/Berlin', 2028, '2028-03-26T01:00:00.000Z', '2028-10-29T01:00:00.000Z'],
    ['America/New_York', 2026, '2026-03-08T07:00:00.000Z', '2026-11-01T06:00:00.000Z'],
    ['America/New_York', 2027, '2027-03-14T07:00:00.000Z', '2027-11-07T06:00:00.000Z'],
  ] as const)('%s %i: summer time from %s to %s', (zone, year, start, end) => {
    expect(iso(ZONES[zone].start(year))).toBe(start);
    expect(iso(ZONES[zone].end(year))).toBe(end);
  });

  it('converts local times on both sides of the changes', () => {
    expect(iso(localToUtc('Europe/Berlin', 2026, 3, 29, 0, 30))).toBe('2026-03-28T23:30:00.000Z');
    expect(iso(localToUtc('Europe/Berlin', 2026, 3, 29, 3, 30))).toBe('2026-03-29T01:30:00.000Z');
    expect(iso(localToUtc('America/New_York', 2026, 3, 8, 23, 30))).toBe('2026-03-09T03:30:00.000Z');
    expect(iso(localToUtc('America/New_York', 2026, 11, 1, 23, 30))).toBe('2026-11-02T04:30:00.000Z');
    expect(() => localToUtc('Europe/Berlin', 2026, 3, 29, 2, 30)).toThrow(/not a unique/); // skipped
    expect(() => localToUtc('Europe/Berlin', 2026, 10, 25, 2, 30)).toThrow(/not a unique/); // twice
  });
});

// ---------------------------------------------------------------------------------------------------------
// Two simulated years of backups, a retention run every day with a fake clock, compared EXACTLY with
// what the policy says, computed here by walking calendar days, weeks, months and years backwards.
// ---------------------------------------------------------------------------------------------------------

interface SimBackup extends RetentionSnapshot {
  ms: number;
  day: number;
  /** minutes after local midnight (the simulation uses no skipped or repeated wall-clock times) */
  minute: number;
}

const SIM_START = dayNum(2026, 6, 1);
const SIM_END = dayNum(2028, 5, 31); // across ISO week 2026-W53, leap day 2028-02-29, 4 DST changes a zone
/** no backups: a fortnight's holiday (whole weeks), all of April 2027, Christmas across the new year */
const GAPS: [number, number][] = [
  [dayNum(2026, 8, 3), dayNum(2026, 8, 16)],
  [dayNum(2027, 4, 1), dayNum(2027, 4, 30)],
  [dayNum(2027, 12, 24), dayNum(2028, 1, 2)],
];

/** The backups of one local day: 18:00 every day; 00:30 and 23:30 on the first and last day of each
 * month and on DST change days; 09:15 and 12:00 on every seventh day. */
function dayTimes(zone: Zone, n: number): [number, number][] {
  if (GAPS.some(([from, to]) => n >= from && n <= to)) return [];
  const { y, m, d } = ymd(n);
  const z = ZONES[zone];
  const changeDays = [z.start(y), z.end(y)].map((ms) =>
    Math.floor((ms + (zone === 'Europe/Berlin' ? 2 : -4) * HOUR) / DAY),
  );
  const times: [number, number][] = [[18, 0]];
  if (d === 1 || n === lastDayOfMonth(y, m) || changeDays.includes(n)) times.push([0, 30], [23, 30]);
  if (n % 7 === 3) times.push([9, 15], [12, 0]);
  return times.sort((a, b) => a[0] * 60 + a[1] - (b[0] * 60 + b[1]));
}

function backupsOf(zone: Zone, n: number, source: string): SimBackup[] {
  const { y, m, d } = ymd(n);
  return dayTimes(zone, n).map(([h, mi]) => {
    const ms = localToUtc(zone, y, m, d, h, mi);
    return {
      id: `${dateLabel(n)}@${pad2(h)}:${pad2(mi)}`,
      time: iso(ms),
      source,
      ms,
      day: n,
      minute: h * 60 + mi,
    };
  });
}

interface Expected {
  id: string;
  reasons: Tier[];
  tier: Tier;
  lockTier: LockTier;
}

const RANK: Tier[] = ['within', 'last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'];

/** What `p` keeps of `made` (all backups so far) on local day `today`, by plain calendar walks. */
function expectedKeep(made: SimBackup[], p: RetentionPolicy, today: number): Expected[] {
  const byDay = new Map<number, SimBackup[]>();
  for (const b of made) byDay.set(b.day, [...(byDay.get(b.day) ?? []), b]);
  const latestIn = (from: number, to: number): SimBackup | undefined => {
    for (let n = to; n >= from; n--) {
      const list = (byDay.get(n) ?? []).slice().sort((a, b) => a.minute - b.minute);
      if (list.length > 0) return list[list.length - 1];
    }
    return undefined;
  };
  const reasons = new Map<string, Tier[]>();
  const add = (b: SimBackup, t: Tier): void => {
    reasons.set(b.id, [...(reasons.get(b.id) ?? []), t]);
  };
  /** keeps the latest backup of each of the `count` most recent periods that have one */
  const walk = (count: number | undefined, tier: Tier, period: (k: number) => [number, number]): void => {
    let left = count ?? 0;
    for (let k = 0; left > 0; k++) {
      const [from, to] = period(k);
      if (to < SIM_START) break;
      const latest = latestIn(from, to);
      if (latest !== undefined) {
        add(latest, tier);
        left--;
      }
    }
  };
  const newestFirst = made.slice().sort((a, b) => b.ms - a.ms);
  for (const b of newestFirst.slice(0, p.keepLast ?? 0)) add(b, 'last');

  const { y: ty, m: tm } = ymd(today);
  const monday = today - weekday(today);
  walk(p.keepHourly, 'hourly', () => [0, -1]); // the simulation has no hourly rule
  walk(p.keepDaily, 'daily', (k) => [today - k, today - k]);
  walk(p.keepWeekly, 'weekly', (k) => [monday - 7 * k, monday - 7 * k + 6]);
  walk(p.keepMonthly, 'monthly', (k) => {
    const first = dayNum(ty, tm - k, 1); // Date.UTC rolls month 0, -1, … into earlier years
    const { y, m } = ymd(first);
    return [first, lastDayOfMonth(y, m)];
  });
  walk(p.keepYearly, 'yearly', (k) => [dayNum(ty - k, 1, 1), dayNum(ty - k, 12, 31)]);
  if ((p.keepWithinDays ?? 0) > 0 && newestFirst[0] !== undefined) {
    const cutoff = newestFirst[0].ms - (p.keepWithinDays ?? 0) * DAY;
    for (const b of newestFirst) if (b.ms > cutoff) add(b, 'within');
  }

  const order: Tier[] = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly', 'within'];
  return newestFirst
    .filter((b) => reasons.has(b.id))
    .map((b) => {
      const r = (reasons.get(b.id) ?? []).sort((a, c) => order.indexOf(a) - order.indexOf(c));
      const tier = r.reduce((a, c) => (RANK.indexOf(c) > RANK.indexOf(a) ? c : a));
      const { y, m } = ymd(b.day);
      const lockTier: LockTier =
        r.includes('yearly') && y < ty
          ? 'yearly'
          : r.includes('monthly') && y * 12 + m < ty * 12 + tm
            ? 'monthly'
            : r.includes('weekly') && b.day - weekday(b.day) + 6 < today
              ? 'weekly'
              : 'daily';
      return { id: b.id, reasons: r, tier, lockTier };
    });
}

const SIM_POLICIES: [name: string, p: Omit<RetentionPolicy, 'timeZone'>][] = [
  [
    'office GFS (14 daily, 8 weekly, 12 monthly, 3 yearly)',
    {
      keepDaily: 14,
      keepWeekly: 8,
      keepMonthly: 12,
      keepYearly: 3,
      lockDays: { daily: 30, weekly: 90, monthly: 366, yearly: 1096 },
    },
  ],
  [
    'last 5 + within 10 d + 7 daily, 5 weekly, 18 monthly, 2 yearly',
    {
      keepLast: 5,
      keepWithinDays: 10,
      keepDaily: 7,
      keepWeekly: 5,
      keepMonthly: 18,
      keepYearly: 2,
      lockDays: { daily: 7, weekly: 60, monthly: 731, yearly: 731 },
    },
  ],
];

const ZONE_NAMES: Zone[] = ['Europe/Berlin', 'America/New_York'];

describe.each(ZONE_NAMES)('two simulated years of daily backups in %s', (zone) => {
  it.each(SIM_POLICIES)('%s: the kept set matches the policy exactly on every day', (_name, base) => {
    const p: RetentionPolicy = { ...base, timeZone: zone };
    const clock = new FakeClock(localToUtc(zone, 2026, 5, 31, 12, 0));
    const made: SimBackup[] = [];
    let live: SimBackup[] = [];
    let checked = 0;
    for (let today = SIM_START; today <= SIM_END; today++) {
      for (const b of backupsOf(zone, today, 'docs')) {
        clock.set(b.ms);
        made.push(b);
        live.push(b);
      }
      const { y, m, d } = ymd(today);
      clock.set(localToUtc(zone, y, m, d, 23, 45)); // the nightly retention run
      const result = applyPolicy(
        live.map(({ id, time, source }) => ({ id, time, source })),
        p,
        clock.now(),
      );
      const expected = expectedKeep(made, p, today);
      expect({ day: dateLabel(today), keep: result.keep }).toEqual({ day: dateLabel(today), keep: expected });
      const keptNow = new Set(keptIds(result.keep));
      expect(result.forget.map((f) => f.id).sort()).toEqual(
        live
          .filter((b) => !keptNow.has(b.id))
          .map((b) => b.id)
          .sort(),
      );
      // forgotten snapshots are pruned: later runs see only what was kept (the result must not change)
      live = live.filter((b) => keptNow.has(b.id));
      checked++;
    }
    expect(checked).toBe(731);

    // evaluating the whole history at once gives the same answer as forgetting day by day
    const full = applyPolicy(made, p, clock.now());
    expect(keptIds(full.keep)).toEqual(
      live
        .map((b) => b.id)
        .sort()
        .reverse(),
    );
    expect(full.keep.length + full.forget.length).toBe(made.length);
  });

  it('anchors: the expected keepers on the last day are the ones a person would pick', () => {
    const made: SimBackup[] = [];
    for (let n = SIM_START; n <= SIM_END; n++) made.push(...backupsOf(zone, n, 'docs'));
    const office = SIM_POLICIES[0]?.[1];
    const second = SIM_POLICIES[1]?.[1];
    if (office === undefined || second === undefined) throw new Error('no policies');
    const withReason = (p: Omit<RetentionPolicy, 'timeZone'>, t: Tier): string[] =>
      expectedKeep(made, { ...p, timeZone: zone }, SIM_END)
        .filter((e) => e.reasons.includes(t))
        .map((e) => e.id);
    expect(withReason(office, 'yearly')).toEqual([
      '2028-05-31@23:30',
      '2027-12-23@18:00',
      '2026-12-31@23:30',
    ]);
    // 2028-05-31 is a Wednesday; the Christmas gap empties no week in this window
    expect(withReason(office, 'weekly')).toEqual([
      '2028-05-31@23:30',
      '2028-05-28@18:00',
      '2028-05-21@18:00',
      '2028-05-14@18:00',
      '2028-05-07@18:00',
      '2028-04-30@23:30',
      '2028-04-23@18:00',
      '2028-04-16@18:00',
    ]);
    // 18 monthly: April 2027 had no backup, so the window reaches back to November 2026
    const monthly = withReason(second, 'monthly');
    expect(monthly).toHaveLength(18);
    expect(monthly.slice(-4)).toEqual([
      '2027-02-28@23:30',
      '2027-01-31@23:30',
      '2026-12-31@23:30',
      '2026-11-30@23:30',
    ]);
    expect(monthly.some((id) => id.startsWith('2027-04'))).toBe(false);
    expect(monthly).toContain('2028-02-29@23:30');
    expect(monthly).toContain('2027-12-23@18:00');
    // DST change days have extra backups at 00:30 and 23:30
    const fallBack = zone === 'Europe/Berlin' ? '2026-10-25' : '2026-11-01';
    expect(made.map((b) => b.id)).toEqual(
      expect.arrayContaining([`${fallBack}@00:30`, `${fallBack}@18:00`, `${fallBack}@23:30`]),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Bucket keys on the edges: DST, month ends, leap day, ISO week 53, year and period boundaries.
// ---------------------------------------------------------------------------------------------------------

const KEY_CASES: [what: string, zone: Zone, instant: string, keys: BucketKeys][] = [
  // Berlin spring forward 2026-03-29 02:00 CET → 03:00 CEST
  [
    'Berlin 23:30 before the change',
    'Europe/Berlin',
    '2026-03-28T22:30:00Z',
    k('2026-03-28', 23, '2026-W13'),
  ],
  ['Berlin 00:30 on the change day', 'Europe/Berlin', '2026-03-28T23:30:00Z', k('2026-03-29', 0, '2026-W13')],
  ['Berlin last CET second', 'Europe/Berlin', '2026-03-29T00:59:59Z', k('2026-03-29', 1, '2026-W13')],
  [
    'Berlin first CEST second (no 02:xx)',
    'Europe/Berlin',
    '2026-03-29T01:00:00Z',
    k('2026-03-29', 3, '2026-W13'),
  ],
  [
    'Berlin 23:30 CEST on the change day',
    'Europe/Berlin',
    '2026-03-29T21:30:00Z',
    k('2026-03-29', 23, '2026-W13'),
  ],
  ['Berlin 00:30 after the change', 'Europe/Berlin', '2026-03-29T22:30:00Z', k('2026-03-30', 0, '2026-W14')],
  // Berlin fall back 2026-10-25 03:00 CEST → 02:00 CET: 02:30 exists twice
  [
    'Berlin 00:30 CEST on the change day',
    'Europe/Berlin',
    '2026-10-24T22:30:00Z',
    k('2026-10-25', 0, '2026-W43'),
  ],
  ['Berlin first 02:30 (CEST)', 'Europe/Berlin', '2026-10-25T00:30:00Z', k('2026-10-25', 2, '2026-W43')],
  ['Berlin second 02:30 (CET)', 'Europe/Berlin', '2026-10-25T01:30:00Z', k('2026-10-25', 2, '2026-W43')],
  [
    'Berlin 23:30 CET on the change day',
    'Europe/Berlin',
    '2026-10-25T22:30:00Z',
    k('2026-10-25', 23, '2026-W43'),
  ],
  // New York spring forward 2026-03-08 02:00 EST → 03:00 EDT
  [
    'NY 00:30 EST on the change day',
    'America/New_York',
    '2026-03-08T05:30:00Z',
    k('2026-03-08', 0, '2026-W10'),
  ],
  ['NY 03:30 EDT (no 02:xx)', 'America/New_York', '2026-03-08T07:30:00Z', k('2026-03-08', 3, '2026-W10')],
  [
    'NY 23:30 EDT (UTC is the 9th)',
    'America/New_York',
    '2026-03-09T03:30:00Z',
    k('2026-03-08', 23, '2026-W10'),
  ],
  ['NY 00:30 EDT the day after', 'America/New_York', '2026-03-09T04:30:00Z', k('2026-03-09', 0, '2026-W11')],
  // New York fall back 2026-11-01 02:00 EDT → 01:00 EST: 01:30 exists twice
  ['NY 23:30 EDT Oct 31', 'America/New_York', '2026-11-01T03:30:00Z', k('2026-10-31', 23, '2026-W44')],
  ['NY first 01:30 (EDT)', 'America/New_York', '2026-11-01T05:30:00Z', k('2026-11-01', 1, '2026-W44')],
  ['NY second 01:30 (EST)', 'America/New_York', '2026-11-01T06:30:00Z', k('2026-11-01', 1, '2026-W44')],
  [
    'NY 23:30 EST on the change day',
    'America/New_York',
    '2026-11-02T04:30:00Z',
    k('2026-11-01', 23, '2026-W44'),
  ],
  // month ends
  ['Berlin Jan 31 23:30', 'Europe/Berlin', '2027-01-31T22:30:00Z', k('2027-01-31', 23, '2027-W04')],
  ['Berlin Feb 1 00:30 (UTC: Jan)', 'Europe/Berlin', '2027-01-31T23:30:00Z', k('2027-02-01', 0, '2027-W05')],
  ['Berlin Feb 28 23:30', 'Europe/Berlin', '2027-02-28T22:30:00Z', k('2027-02-28', 23, '2027-W08')],
  ['Berlin Mar 1 00:30 (UTC: Feb)', 'Europe/Berlin', '2027-02-28T23:30:00Z', k('2027-03-01', 0, '2027-W09')],
  ['NY Jan 31 23:30 (UTC: Feb)', 'America/New_York', '2027-02-01T04:30:00Z', k('2027-01-31', 23, '2027-W04')],
  ['NY Feb 28 23:30 (UTC: Mar)', 'America/New_York', '2027-03-01T04:30:00Z', k('2027-02-28', 23, '2027-W08')],
  // leap day
  [
    'Berlin Feb 29 00:30 (UTC: Feb 28)',
    'Europe/Berlin',
    '2028-02-28T23:30:00Z',
    k('2028-02-29', 0, '2028-W09'),
  ],
  ['Berlin Feb 29 23:30', 'Europe/Berlin', '2028-02-29T22:30:00Z', k('2028-02-29', 23, '2028-W09')],
  [
    'Berlin Mar 1 00:30 (UTC: Feb 29)',
    'Europe/Berlin',
    '2028-02-29T23:30:00Z',
    k('2028-03-01', 0, '2028-W09'),
  ],
  [
    'NY Feb 29 23:30 (UTC: Mar 1)',
    'America/New_York',
    '2028-03-01T04:30:00Z',
    k('2028-02-29', 23, '2028-W09'),
  ],
  // ISO weeks and year boundaries: 2026 has 53 ISO weeks (Dec 28 2026 – Jan 3 2027 is 2026-W53)
  ['Sunday Dec 27 2026', 'Europe/Berlin', '2026-12-27T12:00:00Z', k('2026-12-27', 13, '2026-W52')],
  ['Monday Dec 28 00:00 exactly', 'Europe/Berlin', '2026-12-27T23:00:00Z', k('2026-12-28', 0, '2026-W53')],
  ['Dec 31 23:59:59.999', 'Europe/Berlin', '2026-12-31T22:59:59.999Z', k('2026-12-31', 23, '2026-W53')],
  ['Jan 1 2027 00:00 exactly', 'Europe/Berlin', '2026-12-31T23:00:00Z', k('2027-01-01', 0, '2026-W53')],
  ['Sunday Jan 3 23:59:59.999', 'Europe/Berlin', '2027-01-03T22:59:59.999Z', k('2027-01-03', 23, '2026-W53')],
  [
    'Monday Jan 4 2027 00:00 exactly',
    'Europe/Berlin',
    '2027-01-03T23:00:00Z',
    k('2027-01-04', 0, '2027-W01'),
  ],
  [
    'NY Dec 31 2026 23:30 (UTC: 2027)',
    'America/New_York',
    '2027-01-01T04:30:00Z',
    k('2026-12-31', 23, '2026-W53'),
  ],
  ['Monday Dec 29 2025 is 2026-W01', 'Europe/Berlin', '2025-12-28T23:00:00Z', k('2025-12-29', 0, '2026-W01')],
  [
    'Sunday Jan 3 2021 is 2020-W53',
    'America/New_York',
    '2021-01-03T17:00:00Z',
    k('2021-01-03', 12, '2020-W53'),
  ],
  ['Dec 31 2024 is 2025-W01', 'Europe/Berlin', '2024-12-31T11:00:00Z', k('2024-12-31', 12, '2025-W01')],
  // a period boundary exactly: local midnight starts the new day and week
  [
    'Berlin Sunday 23:59:59.999',
    'Europe/Berlin',
    '2026-06-14T21:59:59.999Z',
    k('2026-06-14', 23, '2026-W24'),
  ],
  ['Berlin Monday 00:00:00.000', 'Europe/Berlin', '2026-06-14T22:00:00.000Z', k('2026-06-15', 0, '2026-W25')],
];

function k(day: string, hour: number, week: string): BucketKeys {
  return { hour: `${day}T${pad2(hour)}`, day, week, month: day.slice(0, 7), year: day.slice(0, 4) };
}

describe('bucketKeys: wall-clock periods in the policy time zone', () => {
  it.each(KEY_CASES)('%s', (_what, zone, instant, keys) => {
    expect(bucketKeys(new Date(instant), zone)).toEqual(keys);
  });

  it('rejects an invalid date and an unknown zone', () => {
    expectInvalid(() => bucketKeys(new Date('nope'), 'Europe/Berlin'), 'invalid date');
    expectInvalid(() => bucketKeys(new Date(0), 'Mars/Olympus'), 'unknown time zone');
  });
});

// ---------------------------------------------------------------------------------------------------------
// applyPolicy on hand-made cases.
// ---------------------------------------------------------------------------------------------------------

interface Case {
  name: string;
  policy: RetentionPolicy;
  snapshots: RetentionSnapshot[];
  now: string;
  keep: string[];
}

const berlin = (p: Partial<RetentionPolicy>): RetentionPolicy => policy({ ...p, timeZone: 'Europe/Berlin' });
const newYork = (p: Partial<RetentionPolicy>): RetentionPolicy =>
  policy({ ...p, timeZone: 'America/New_York' });

const CASES: Case[] = [
  {
    name: 'Berlin spring forward: one day each, 00:30 and 23:30 stay on their day',
    policy: berlin({ keepDaily: 3 }),
    snapshots: [
      snap('28th 23:30', '2026-03-28T22:30:00Z'),
      snap('29th 00:30', '2026-03-28T23:30:00Z'),
      snap('29th "02:30" ran 03:30', '2026-03-29T01:30:00Z'),
      snap('29th 23:30', '2026-03-29T21:30:00Z'),
      snap('30th 00:30', '2026-03-29T22:30:00Z'),
    ],
    now: '2026-03-30T10:00:00Z',
    keep: ['30th 00:30', '29th 23:30', '28th 23:30'],
  },
  {
    name: 'Berlin spring forward: the skipped hour is no bucket',
    policy: berlin({ keepHourly: 10 }),
    snapshots: [
      snap('00:30', '2026-03-28T23:30:00Z'),
      snap('01:59:59', '2026-03-29T00:59:59Z'),
      snap('03:00', '2026-03-29T01:00:00Z'),
      snap('03:30', '2026-03-29T01:30:00Z'),
    ],
    now: '2026-03-29T12:00:00Z',
    keep: ['03:30', '01:59:59', '00:30'],
  },
  {
    name: 'Berlin fall back: the 25-hour day is one day; the later 02:30 keeps it',
    policy: berlin({ keepDaily: 3 }),
    snapshots: [
      snap('24th 23:30', '2026-10-24T21:30:00Z'),
      snap('25th 00:30', '2026-10-24T22:30:00Z'),
      snap('25th 02:30 CEST', '2026-10-25T00:30:00Z'),
      snap('25th 02:30 CET', '2026-10-25T01:30:00Z'),
      snap('26th 00:30', '2026-10-25T23:30:00Z'),
    ],
    now: '2026-10-26T10:00:00Z',
    keep: ['26th 00:30', '25th 02:30 CET', '24th 23:30'],
  },
  {
    name: 'Berlin fall back: both 02:30s share one hourly bucket',
    policy: berlin({ keepHourly: 5 }),
    snapshots: [
      snap('01:30', '2026-10-24T23:30:00Z'),
      snap('02:30 CEST', '2026-10-25T00:30:00Z'),
      snap('02:30 CET', '2026-10-25T01:30:00Z'),
      snap('03:30', '2026-10-25T02:30:00Z'),
    ],
    now: '2026-10-25T12:00:00Z',
    keep: ['03:30', '02:30 CET', '01:30'],
  },
  {
    name: 'New York spring forward: 23:30 EDT is still the 8th (UTC says the 9th)',
    policy: newYork({ keepDaily: 3 }),
    snapshots: [
      snap('7th 23:30', '2026-03-08T04:30:00Z'),
      snap('8th 00:30', '2026-03-08T05:30:00Z'),
      snap('8th "02:30" ran 03:30', '2026-03-08T07:30:00Z'),
      snap('8th 23:30', '2026-03-09T03:30:00Z'),
      snap('9th 00:30', '2026-03-09T04:30:00Z'),
    ],
    now: '2026-03-09T15:00:00Z',
    keep: ['9th 00:30', '8th 23:30', '7th 23:30'],
  },
  {
    name: 'New York fall back: the repeated 01:30, and Oct 31 23:30 stays in October',
    policy: newYork({ keepDaily: 3, keepHourly: 2, keepMonthly: 2 }),
    snapshots: [
      snap('Oct 31 23:30', '2026-11-01T03:30:00Z'),
      snap('Nov 1 00:30', '2026-11-01T04:30:00Z'),
      snap('Nov 1 01:30 EDT', '2026-11-01T05:30:00Z'),
      snap('Nov 1 01:30 EST', '2026-11-01T06:30:00Z'),
      snap('Nov 1 23:30', '2026-11-02T04:30:00Z'),
    ],
    now: '2026-11-02T12:00:00Z',
    keep: ['Nov 1 23:30', 'Nov 1 01:30 EST', 'Oct 31 23:30'],
  },
  {
    name: 'month ends in New York: Jan 31 and Feb 28 at 23:30 (UTC: next month) keep their months',
    policy: newYork({ keepMonthly: 3 }),
    snapshots: [
      snap('Jan 30 23:30', '2027-01-31T04:30:00Z'),
      snap('Jan 31 23:30', '2027-02-01T04:30:00Z'),
      snap('Feb 1 00:30', '2027-02-01T05:30:00Z'),
      snap('Feb 28 23:30', '2027-03-01T04:30:00Z'),
      snap('Mar 1 00:30', '2027-03-01T05:30:00Z'),
    ],
    now: '2027-03-01T12:00:00Z',
    keep: ['Mar 1 00:30', 'Feb 28 23:30', 'Jan 31 23:30'],
  },
  {
    name: 'month ends in Berlin: Feb 1 00:30 (UTC: Jan) is February',
    policy: berlin({ keepMonthly: 3 }),
    snapshots: [
      snap('Jan 31 18:00', '2027-01-31T17:00:00Z'),
      snap('Feb 1 00:30', '2027-01-31T23:30:00Z'),
      snap('Feb 15 12:00', '2027-02-15T11:00:00Z'),
    ],
    now: '2027-02-20T12:00:00Z',
    keep: ['Feb 15 12:00', 'Jan 31 18:00'],
  },
  {
    name: 'leap day 2028: Feb 29 23:30 is its own day and February',
    policy: newYork({ keepDaily: 2, keepMonthly: 2 }),
    snapshots: [
      snap('Feb 28 23:30', '2028-02-29T04:30:00Z'),
      snap('Feb 29 12:00', '2028-02-29T17:00:00Z'),
      snap('Feb 29 23:30', '2028-03-01T04:30:00Z'),
      snap('Mar 1 00:30', '2028-03-01T05:30:00Z'),
    ],
    now: '2028-03-01T12:00:00Z',
    keep: ['Mar 1 00:30', 'Feb 29 23:30'],
  },
  {
    name: 'ISO week 53: Dec 28 2026 – Jan 3 2027 is one week across the new year',
    policy: berlin({ keepWeekly: 3 }),
    snapshots: [
      snap('Sun Dec 27', '2026-12-27T11:00:00Z'),
      snap('Mon Dec 28 00:00', '2026-12-27T23:00:00Z'),
      snap('Thu Dec 31', '2026-12-31T11:00:00Z'),
      snap('Sun Jan 3 23:59:59.999', '2027-01-03T22:59:59.999Z'),
      snap('Mon Jan 4 00:00', '2027-01-03T23:00:00Z'),
      snap('Tue Jan 5', '2027-01-05T11:00:00Z'),
    ],
    now: '2027-01-05T12:00:00Z',
    keep: ['Tue Jan 5', 'Sun Jan 3 23:59:59.999', 'Sun Dec 27'],
  },
  {
    name: 'year boundary: New York Dec 31 23:30 (UTC: 2027) is 2026’s yearly',
    policy: newYork({ keepYearly: 3 }),
    snapshots: [
      snap('2025 Dec 31 12:00', '2025-12-31T17:00:00Z'),
      snap('2026 Jun 1', '2026-06-01T16:00:00Z'),
      snap('2026 Dec 31 23:30', '2027-01-01T04:30:00Z'),
      snap('2027 Jan 1 00:30', '2027-01-01T05:30:00Z'),
    ],
    now: '2027-01-01T12:00:00Z',
    keep: ['2027 Jan 1 00:30', '2026 Dec 31 23:30', '2025 Dec 31 12:00'],
  },
  {
    name: 'exactly on a day boundary: local midnight opens the new day',
    policy: berlin({ keepDaily: 2 }),
    snapshots: [
      snap('Sun 12:00', '2026-06-14T10:00:00Z'),
      snap('Sun 23:59:59.999', '2026-06-14T21:59:59.999Z'),
      snap('Mon 00:00:00.000', '2026-06-14T22:00:00.000Z'),
    ],
    now: '2026-06-15T12:00:00Z',
    keep: ['Mon 00:00:00.000', 'Sun 23:59:59.999'],
  },
  {
    name: 'periods without a backup do not use up a count',
    policy: berlin({ keepDaily: 3 }),
    snapshots: [
      snap('Jun 1', '2026-06-01T16:00:00Z'),
      snap('Jun 2', '2026-06-02T16:00:00Z'),
      snap('Jun 10', '2026-06-10T16:00:00Z'),
      snap('Jun 20', '2026-06-20T16:00:00Z'),
    ],
    now: '2026-06-25T12:00:00Z',
    keep: ['Jun 20', 'Jun 10', 'Jun 2'],
  },
  {
    name: 'keepLast only: the newest N, equal times ordered by id',
    policy: berlin({ keepLast: 3 }),
    snapshots: [
      snap('a', '2026-06-01T10:00:00Z'),
      snap('b', '2026-06-02T10:00:00Z'),
      snap('d', '2026-06-03T10:00:00Z'),
      snap('c', '2026-06-03T10:00:00Z'),
      snap('e', '2026-06-01T09:00:00Z'),
    ],
    now: '2026-06-04T12:00:00Z',
    keep: ['c', 'd', 'b'],
  },
  {
    name: 'keepWithinDays only: strictly within D × 24 h of the newest backup, even when backups stopped',
    policy: berlin({ keepWithinDays: 7 }),
    snapshots: [
      snap('newest', '2026-05-10T12:00:00Z'),
      snap('3 days before', '2026-05-07T12:00:00Z'),
      snap('7 days before + 1 ms', '2026-05-03T12:00:00.001Z'),
      snap('exactly 7 days before', '2026-05-03T12:00:00Z'),
      snap('8 days before', '2026-05-02T12:00:00Z'),
    ],
    now: '2026-06-10T12:00:00Z',
    keep: ['newest', '3 days before', '7 days before + 1 ms'],
  },
  {
    name: 'keepWithinDays: a snapshot dated after now is kept but is not the reference',
    policy: berlin({ keepWithinDays: 2 }),
    snapshots: [
      snap('future', '2026-06-20T12:00:00Z'),
      snap('newest real', '2026-06-09T12:00:00Z'),
      snap('1 day before', '2026-06-08T12:00:00Z'),
      snap('3 days before', '2026-06-06T12:00:00Z'),
    ],
    now: '2026-06-10T12:00:00Z',
    keep: ['future', 'newest real', '1 day before'],
  },
  {
    name: 'keepWithinDays: with only future snapshots, now is the reference',
    policy: berlin({ keepWithinDays: 2 }),
    snapshots: [snap('tomorrow', '2026-06-11T12:00:00Z')],
    now: '2026-06-10T12:00:00Z',
    keep: ['tomorrow'],
  },
  {
    name: 'sources are independent: each keeps its own last 2 and its own newest day',
    policy: berlin({ keepLast: 2, keepDaily: 2 }),
    snapshots: [
      snap('A1', '2026-06-01T08:00:00Z', 'A'),
      snap('B1', '2026-06-01T09:00:00Z', 'B'),
      snap('A2', '2026-06-01T10:00:00Z', 'A'),
      snap('B2', '2026-06-02T11:00:00Z', 'B'),
      snap('A3', '2026-06-02T12:00:00Z', 'A'),
      snap('B3', '2026-06-03T13:00:00Z', 'B'),
      snap('B4', '2026-06-03T14:00:00Z', 'B'),
    ],
    now: '2026-06-03T20:00:00Z',
    keep: ['B4', 'B3', 'A3', 'B2', 'A2'],
  },
  {
    name: 'sources are independent: keep-within hangs off each source’s own newest backup',
    policy: berlin({ keepWithinDays: 3 }),
    snapshots: [
      snap('A new', '2026-06-20T12:00:00Z', 'A'),
      snap('A old', '2026-06-10T12:00:00Z', 'A'),
      snap('B newest (stopped)', '2026-06-10T12:00:00Z', 'B'),
      snap('B 2 days before', '2026-06-08T12:00:00Z', 'B'),
      snap('B 5 days before', '2026-06-05T12:00:00Z', 'B'),
    ],
    now: '2026-06-21T12:00:00Z',
    keep: ['A new', 'B newest (stopped)', 'B 2 days before'],
  },
];

describe('applyPolicy: edge cases', () => {
  it.each(CASES)('$name', ({ policy: p, snapshots, now, keep }) => {
    const clock = new FakeClock(new Date(now));
    const result = applyPolicy(snapshots, p, clock.now());
    expect(keptIds(result.keep)).toEqual(keep);
    const forget = snapshots.map((s) => s.id).filter((id) => !keep.includes(id));
    expect(result.forget.map((f) => f.id).sort()).toEqual(forget.sort());
  });

  it('tier is the longest reason: the daily and yearly keeper is yearly', () => {
    const p = berlin({ keepDaily: 3, keepYearly: 2 });
    const result = applyPolicy(
      [
        snap('Dec 30', '2026-12-30T17:00:00Z'),
        snap('Dec 31', '2026-12-31T17:00:00Z'),
        snap('Jan 1', '2027-01-01T17:00:00Z'),
        snap('Jan 2', '2027-01-02T10:00:00Z'),
      ],
      p,
      new Date('2027-01-02T12:00:00Z'),
    );
    expect(result.keep).toEqual([
      // newest of the unfinished year 2027: yearly for now, but locked as a daily until 2027 is over
      { id: 'Jan 2', reasons: ['daily', 'yearly'], tier: 'yearly', lockTier: 'daily' },
      { id: 'Jan 1', reasons: ['daily'], tier: 'daily', lockTier: 'daily' },
      // 2026 is over: its last backup is final and gets the yearly lock
      { id: 'Dec 31', reasons: ['daily', 'yearly'], tier: 'yearly', lockTier: 'yearly' },
    ]);
    expect(result.forget).toEqual([{ id: 'Dec 30' }]);
    expect(lockDaysFor('yearly', p)).toBe(1096);
  });

  it('lockTier: a finished month inside an unfinished year locks as monthly', () => {
    const result = applyPolicy(
      [
        snap('Jan 15', '2027-01-15T12:00:00Z'),
        snap('Feb 10', '2027-02-10T12:00:00Z'),
        snap('Mar 2', '2027-03-02T12:00:00Z'),
      ],
      berlin({ keepMonthly: 3, keepYearly: 1, keepWeekly: 1, keepLast: 1, keepWithinDays: 1 }),
      new Date('2027-03-05T12:00:00Z'),
    );
    expect(result.keep).toEqual([
      {
        id: 'Mar 2',
        reasons: ['last', 'weekly', 'monthly', 'yearly', 'within'],
        tier: 'yearly',
        lockTier: 'daily',
      },
      { id: 'Feb 10', reasons: ['monthly'], tier: 'monthly', lockTier: 'monthly' },
      { id: 'Jan 15', reasons: ['monthly'], tier: 'monthly', lockTier: 'monthly' },
    ]);
  });

  it.each([
    [['within'], 'within'],
    [['last', 'within'], 'last'],
    [['last', 'hourly'], 'hourly'],
    [['hourly', 'daily'], 'daily'],
    [['daily', 'weekly', 'within'], 'weekly'],
    [['weekly', 'monthly'], 'monthly'],
  ] as const)('tier of %j is %s', (reasons, tier) => {
    // one snapshot 1 hour old, kept by exactly the rules named
    const on = (t: Tier): number => ((reasons as readonly Tier[]).includes(t) ? 1 : 0);
    const p = berlin({
      keepLast: on('last'),
      keepHourly: on('hourly'),
      keepDaily: on('daily'),
      keepWeekly: on('weekly'),
      keepMonthly: on('monthly'),
      keepWithinDays: on('within'),
    });
    const [kept] = applyPolicy([snap('s', '2026-06-10T11:00:00Z')], p, new Date('2026-06-10T12:00:00Z')).keep;
    expect(kept?.reasons).toEqual(reasons);
    expect(kept?.tier).toBe(tier);
  });

  it.each([
    ['yearly', 1096],
    ['monthly', 366],
    ['weekly', 90],
    ['daily', 30],
    ['hourly', 30],
    ['last', 30],
    ['within', 30],
  ] as const)('lockDaysFor(%s) is %i days', (tier, days) => {
    expect(lockDaysFor(tier, BASE)).toBe(days);
  });

  it('rejects times without a zone, duplicate ids, an invalid now and an invalid policy', () => {
    const p = berlin({ keepLast: 1 });
    const now = new Date('2026-06-10T12:00:00Z');
    expectInvalid(() => applyPolicy([snap('x', '2026-06-01T10:00:00')], p, now), 'invalid time');
    expectInvalid(() => applyPolicy([snap('x', 'yesterday')], p, now), 'invalid time');
    expectInvalid(
      () => applyPolicy([snap('x', '2026-06-01T10:00:00Z'), snap('x', '2026-06-02T10:00:00Z', 'B')], p, now),
      'listed twice',
    );
    expectInvalid(() => applyPolicy([], p, new Date(NaN)), 'invalid date');
    expectInvalid(() => applyPolicy([], berlin({}), now), 'keeps no backups');
  });

  it('accepts offsets other than Z and an empty list', () => {
    const p = berlin({ keepDaily: 2 });
    const result = applyPolicy(
      [snap('a', '2026-06-01T23:30:00+02:00'), snap('b', '2026-06-01T22:00:00+00:00')],
      p,
      new Date('2026-06-02T12:00:00Z'),
    );
    // b is 2026-06-02 00:00 in Berlin: a new day
    expect(keptIds(result.keep)).toEqual(['b', 'a']);
    expect(applyPolicy([], p, new Date('2026-06-02T12:00:00Z'))).toEqual({ keep: [], forget: [] });
  });
});

// ---------------------------------------------------------------------------------------------------------
// validatePolicy
// ---------------------------------------------------------------------------------------------------------

describe('validatePolicy', () => {
  it.each([
    ['a negative count', policy({ keepDaily: -1 }), 'keepDaily must be a whole number'],
    ['a fractional count', policy({ keepWeekly: 1.5 }), 'keepWeekly must be a whole number'],
    ['NaN', policy({ keepLast: NaN }), 'keepLast must be a whole number'],
    ['negative keep-within', policy({ keepDaily: 1, keepWithinDays: -3 }), 'keepWithinDays'],
    ['a policy that keeps nothing', policy({}), 'keeps no backups'],
    ['only zero counts', policy({ keepDaily: 0, keepYearly: 0, keepWithinDays: 0 }), 'keeps no backups'],
    [
      'a negative lock',
      policy({ keepDaily: 1, lockDays: { daily: -1, weekly: 1, monthly: 1, yearly: 1 } }),
      'lockDays.daily',
    ],
    [
      'a lock beyond 100 years',
      policy({ keepDaily: 1, lockDays: { daily: 1, weekly: 1, monthly: 1, yearly: 365_000 } }),
      'lockDays.yearly',
    ],
    [
      'weekly locked shorter than daily',
      policy({ keepDaily: 1, lockDays: { daily: 30, weekly: 20, monthly: 365, yearly: 3650 } }),
      'the weekly lock (20 days) is shorter than the daily lock (30 days)',
    ],
    [
      'yearly locked shorter than monthly',
      policy({ keepDaily: 1, lockDays: { daily: 30, weekly: 90, monthly: 365, yearly: 364 } }),
      'the yearly lock (364 days) is shorter than the monthly lock (365 days)',
    ],
    ['an unknown time zone', policy({ keepDaily: 1, timeZone: 'Europe/Atlantis' }), 'unknown time zone'],
    ['an empty time zone', policy({ keepDaily: 1, timeZone: '' }), 'no time zone'],
    ['a bare UTC offset', policy({ keepDaily: 1, timeZone: '+01:00' }), 'fixed UTC offset'],
  ])('rejects %s', (_what, p, fragment) => {
    expectInvalid(() => validatePolicy(p), fragment);
  });

  it('rejects a policy without lock periods (e.g. from untyped JSON)', () => {
    const p = { keepDaily: 1, timeZone: 'UTC' } as unknown as RetentionPolicy;
    expectInvalid(() => validatePolicy(p), 'lockDays is missing');
  });

  it.each([
    ['keepLast only', policy({ keepLast: 1 })],
    ['keepWithinDays only', policy({ keepWithinDays: 1 })],
    ['equal locks', policy({ keepYearly: 1, lockDays: { daily: 7, weekly: 7, monthly: 7, yearly: 7 } })],
    ['no locks at all', policy({ keepDaily: 1, lockDays: { daily: 0, weekly: 0, monthly: 0, yearly: 0 } })],
    ['UTC', policy({ keepDaily: 1, timeZone: 'UTC' })],
    ['Asia/Kolkata', policy({ keepDaily: 1, timeZone: 'Asia/Kolkata' })],
  ])('accepts %s', (_what, p) => {
    expect(() => validatePolicy(p)).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------------------
// Templates and plain-language descriptions
// ---------------------------------------------------------------------------------------------------------

describe('templates', () => {
  const templates = retentionTemplates('Europe/Berlin');

  it('has office files, accounting, medical records and custom, with distinct ids', () => {
    expect(templates.map((t) => t.id)).toEqual([
      'office-files',
      'accounting-10y',
      'medical-records',
      'custom',
    ]);
  });

  it.each(templates.map((t) => [t.name, t] as const))('%s validates and describes itself', (_name, t) => {
    expect(() => validatePolicy(t.policy)).not.toThrow();
    expect(t.policy.timeZone).toBe('Europe/Berlin');
    expect(t.description.length).toBeGreaterThan(80);
    const lines = describePolicy(t.policy);
    expect(lines.every((l) => /^[A-Z].*\.$/.test(l))).toBe(true);
    if (t.policy.keepDaily) {
      expect(lines).toContain(
        `Keeps one backup per day for the last ${t.policy.keepDaily} days on which a backup ran, ` +
          `each protected from deletion for ${formatDays(t.policy.lockDays.daily)}.`,
      );
    }
    expect(lines.join(' ')).toContain('Europe/Berlin');
    expect(lines.join(' ')).not.toMatch(/undefined|NaN/);
  });

  it('office files: 14 daily locked 30 days … 3 yearly locked 3 years', () => {
    expect(describePolicy(retentionTemplate('office-files', 'UTC').policy)).toEqual([
      'Keeps one backup per day for the last 14 days on which a backup ran, each protected from deletion for 30 days.',
      'Keeps one backup per week (Monday to Sunday) for the last 8 weeks in which a backup ran, each protected from deletion for 90 days.',
      'Keeps one backup per month for the last 12 months in which a backup ran, each protected from deletion for 1 year.',
      'Keeps one backup per year for the last 3 years in which a backup ran, each protected from deletion for 3 years.',
      'Of several backups in the same period, the last one is kept. The current period counts as one: the 3 yearly backups are this year’s and those of the 2 years before.',
      'Days, weeks, months and years follow the calendar of the UTC time zone.',
      'A backup kept for several reasons gets the longest of these protections. Backups the policy no longer keeps are removed by the next clean-up after their protection ends.',
    ]);
  });

  it('accounting keeps and locks year-end backups for 10 calendar years and says why', () => {
    const t = retentionTemplate('accounting-10y', 'Europe/Berlin');
    expect(t.policy.lockDays.yearly).toBe(3653); // 10 years including up to 3 leap days
    expect(t.policy.keepYearly).toBe(11); // this year and the 10 before
    expect(t.description).toMatch(/10 years/);
    expect(t.description).toMatch(/§ 147 AO/);
    expect(describePolicy(t.policy)).toContain(
      'Keeps one backup per year for the last 11 years in which a backup ran, each protected from deletion for 10 years.',
    );
  });

  it('medical records keeps 10 years and says laws vary', () => {
    const t = retentionTemplate('medical-records', 'America/New_York');
    expect(t.policy.lockDays.yearly).toBe(years(10));
    expect(t.policy.lockDays.monthly).toBeGreaterThanOrEqual(years(1));
    expect(t.description).toMatch(/Laws differ/);
  });

  it('describes keepLast, keep-within and unlocked tiers', () => {
    expect(
      describePolicy(
        policy({ keepLast: 1, keepWithinDays: 1, lockDays: { daily: 0, weekly: 0, monthly: 0, yearly: 0 } }),
      ),
    ).toEqual([
      'Always keeps the most recent backup, not protected from deletion.',
      'Keeps every backup made in the 1 day before the most recent backup, not protected from deletion.',
      'A backup kept for several reasons gets the longest of these protections. Backups the policy no longer keeps are removed by the next clean-up after their protection ends.',
    ]);
    expect(describePolicy(policy({ keepLast: 5, keepHourly: 24 }))[1]).toBe(
      'Keeps one backup per hour for the last 24 hours in which a backup ran, each protected from deletion for 30 days.',
    );
  });

  it('describePolicy refuses an invalid policy', () => {
    expectInvalid(() => describePolicy(policy({})), 'keeps no backups');
  });

  it.each([
    [1, '1 day'],
    [30, '30 days'],
    [365, '1 year'],
    [366, '1 year'],
    [367, '367 days'],
    [730, '2 years'],
    [1096, '3 years'],
    [3650, '10 years'],
    [3653, '10 years'],
  ])('formatDays(%i) is "%s"', (days, text) => {
    expect(formatDays(days)).toBe(text);
  });
});
