/**
 * Ready-made retention policies (DESIGN §1: "templates (office files, medical records, accounting)") and
 * plain-language descriptions of any policy, written for the person in the office who looks after the
 * backups, not for an IT specialist.
 */
import { BulwarkError } from '../errors.ts';
import { validatePolicy, type RetentionPolicy } from './policy.ts';

export type RetentionTemplateId = 'office-files' | 'accounting-10y' | 'medical-records' | 'custom';

export interface RetentionTemplate {
  id: RetentionTemplateId;
  name: string;
  /** what it does and who it is for, in plain language */
  description: string;
  policy: RetentionPolicy;
}

/**
 * Days in `n` calendar years counted from any date, leap days included (1 → 366, 3 → 1096, 10 → 3653),
 * so "locked for 10 years" never ends a day or three before the tenth anniversary.
 */
export function years(n: number): number {
  return Math.ceil(n * 365.25);
}

/** The templates, with days, weeks, months and years counted in `timeZone` (the office's time zone). */
export function retentionTemplates(timeZone: string): RetentionTemplate[] {
  return [
    {
      id: 'office-files',
      name: 'Office files',
      description:
        'For everyday documents, spreadsheets and shared folders. You can go back to any day of the last ' +
        'two weeks, any week of the last two months, any month of the last year, and the end of each of ' +
        'the last three years. Recent backups cannot be deleted for 30 days, so ransomware or a mistake ' +
        'cannot wipe them; the monthly and yearly ones are protected for longer.',
      policy: {
        keepDaily: 14,
        keepWeekly: 8,
        keepMonthly: 12,
        keepYearly: 3,
        lockDays: { daily: 30, weekly: 90, monthly: years(1), yearly: years(3) },
        timeZone,
      },
    },
    {
      id: 'accounting-10y',
      name: 'Accounting (10 years)',
      description:
        'For bookkeeping, invoices and tax records. The last backup of every year is kept, and cannot be ' +
        'deleted by anyone, for 10 years. Many countries require books and accounting records to be kept ' +
        'for 10 years, for example Germany (§ 147 AO, § 257 HGB), France (art. L123-22 Code de commerce), ' +
        'Italy (art. 2220 Codice civile) and Switzerland (art. 958f OR); others ask for less (often 6 or ' +
        '7 years) and some papers for longer. Ask your accountant or tax adviser which period applies to ' +
        'you. Recent days, weeks and months are kept as for office files.',
      policy: {
        keepDaily: 14,
        keepWeekly: 8,
        keepMonthly: 12,
        // this year's and the 10 before it: a year's books are still kept in the 10th year after it
        keepYearly: 11,
        lockDays: { daily: 30, weekly: 90, monthly: years(1), yearly: years(10) },
        timeZone,
      },
    },
    {
      id: 'medical-records',
      name: 'Medical records',
      description:
        'For patient files in a practice or clinic. You can go back to any day of the last month, any week ' +
        'of the last three months, any month of the last two years, and the end of each year for 10 years; ' +
        'year-end backups cannot be deleted for 10 years. Laws differ by country and kind of record: ' +
        'Germany, for example, requires patient files to be kept 10 years after the end of treatment ' +
        '(§ 630f BGB) and some records (such as X-ray records) for up to 30 years; in the United States ' +
        'each state sets its own periods, often 7 to 10 years and longer for minors. Ask your ' +
        'professional body or data-protection officer; for longer periods, start from "Custom".',
      policy: {
        keepDaily: 30,
        keepWeekly: 12,
        keepMonthly: 24,
        keepYearly: 11,
        lockDays: { daily: 30, weekly: 90, monthly: years(2), yearly: years(10) },
        timeZone,
      },
    },
    {
      id: 'custom',
      name: 'Custom',
      description:
        'Choose for yourself how many daily, weekly, monthly and yearly backups to keep and how long each ' +
        'kind cannot be deleted. It starts with a week of daily backups, a month of weekly ones and a year ' +
        'of monthly ones; Bulwark checks that longer-term backups are protected at least as long as ' +
        'shorter-term ones.',
      policy: {
        keepDaily: 7,
        keepWeekly: 4,
        keepMonthly: 12,
        lockDays: { daily: 14, weekly: 35, monthly: years(1), yearly: years(1) },
        timeZone,
      },
    },
  ];
}

export function retentionTemplate(id: RetentionTemplateId, timeZone: string): RetentionTemplate {
  const template = retentionTemplates(timeZone).find((t) => t.id === id);
  if (template === undefined) {
    throw new BulwarkError('NOT_FOUND', `no retention template "${String(id)}"`, {
      hint: `Choose one of: ${retentionTemplates(timeZone)
        .map((t) => t.id)
        .join(', ')}.`,
    });
  }
  return template;
}

const plural = (n: number, one: string, many: string = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** "30 days", "1 year", "10 years" (a whole number of years as `years()` or 365-day years counts them). */
export function formatDays(days: number): string {
  const n = Math.round(days / 365.25);
  if (n >= 1 && (days === years(n) || days === 365 * n)) return plural(n, 'year');
  return plural(days, 'day');
}

const protection = (days: number): string =>
  days > 0 ? `, each protected from deletion for ${formatDays(days)}` : ', not protected from deletion';

/**
 * The policy in plain sentences, e.g. "Keeps one backup per day for the last 14 days on which a backup
 * ran, each protected from deletion for 30 days." Validates the policy first (throws INVALID_ARGUMENT).
 */
export function describePolicy(policy: RetentionPolicy): string[] {
  validatePolicy(policy);
  const lock = policy.lockDays;
  const lines: string[] = [];
  const last = policy.keepLast ?? 0;
  if (last > 0) {
    const what = last === 1 ? 'the most recent backup' : `the ${last} most recent backups`;
    lines.push(`Always keeps ${what}${protection(lock.daily)}.`);
  }
  const periods: [
    count: number | undefined,
    unit: string,
    adjective: string,
    current: string,
    lockDays: number,
  ][] = [
    [policy.keepHourly, 'hour', 'hourly', 'this hour’s', lock.daily],
    [policy.keepDaily, 'day', 'daily', 'today’s', lock.daily],
    [policy.keepWeekly, 'week', 'weekly', 'this week’s', lock.weekly],
    [policy.keepMonthly, 'month', 'monthly', 'this month’s', lock.monthly],
    [policy.keepYearly, 'year', 'yearly', 'this year’s', lock.yearly],
  ];
  let example = '';
  for (const [count = 0, unit, adjective, current, days] of periods) {
    if (count === 0) continue;
    const span = count === 1 ? `the last ${unit}` : `the last ${count} ${unit}s`;
    const ran = unit === 'day' ? 'on which a backup ran' : 'in which a backup ran';
    const weeks = unit === 'week' ? ' (Monday to Sunday)' : '';
    lines.push(`Keeps one backup per ${unit}${weeks} for ${span} ${ran}${protection(days)}.`);
    example =
      count === 1
        ? `the ${adjective} backup is ${current}`
        : `the ${count} ${adjective} backups are ${current} and those of the ${plural(count - 1, unit)} before`;
  }
  if (example !== '') {
    lines.push(
      `Of several backups in the same period, the last one is kept. The current period counts as one: ${example}.`,
    );
  }
  const within = policy.keepWithinDays ?? 0;
  if (within > 0) {
    lines.push(
      `Keeps every backup made in the ${plural(within, 'day')} before the most recent backup` +
        `${protection(lock.daily)}.`,
    );
  }
  if (example !== '') {
    lines.push(`Days, weeks, months and years follow the calendar of the ${policy.timeZone} time zone.`);
  }
  lines.push(
    'A backup kept for several reasons gets the longest of these protections. Backups the policy no ' +
      'longer keeps are removed by the next clean-up after their protection ends.',
  );
  return lines;
}
