/**
 * Numbers, sizes and times in the words an office uses. Sizes are decimal (1 MB = 1 000 000 bytes, as
 * disks and network speeds are sold) with at most three significant digits: "12.4 MB/s", never
 * "12.3456 MiB/s". Times are relative ("4 minutes ago") with the exact time, to the second, available next
 * to them (two runs a minute apart must be told apart).
 */

const UNITS = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'] as const;

/** 1536 → "1.5 kB", 12_400_000 → "12.4 MB", 0 → "0 bytes", 1 → "1 byte" */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  if (bytes < 1000) return bytes === 1 ? '1 byte' : `${Math.round(bytes)} bytes`;
  let value = bytes;
  let unit = 0;
  while (value >= 999.5 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value < 99.95 ? value.toFixed(1) : Math.round(value).toString()} ${UNITS[unit]}`;
}

/** bytes per second → "12.4 MB/s" (rounded like formatBytes; below 1 kB/s: "less than 1 kB/s") */
export function formatRate(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond < 0) return '–';
  if (bytesPerSecond < 1000) return 'less than 1 kB/s';
  return `${formatBytes(bytesPerSecond)}/s`;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** A duration for an ETA or how long something took: "45 seconds", "3 minutes", "1 hour 20 minutes", "2 days" */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return plural(s, 'second');
  const m = Math.round(s / 60);
  if (m < 60) return plural(m, 'minute');
  const h = Math.floor(m / 60);
  const rest = m % 60;
  if (h < 24) return rest === 0 ? plural(h, 'hour') : `${plural(h, 'hour')} ${plural(rest, 'minute')}`;
  return plural(Math.round(h / 24), 'day');
}

/** "about 3 minutes left", "less than a minute left" */
export function formatEta(seconds: number | undefined): string | undefined {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return undefined;
  if (seconds < 60) return 'less than a minute left';
  return `about ${formatDuration(seconds)} left`;
}

/** A schedule ("how often at least") in minutes: "every 15 minutes", "every hour", "every 4 hours", "every day" */
export function formatEvery(minutes: number): string {
  if (!Number.isFinite(minutes) || minutes <= 0) return '–';
  if (minutes < 60) return minutes === 1 ? 'every minute' : `every ${Math.round(minutes)} minutes`;
  const hours = minutes / 60;
  if (minutes % 1440 === 0) return minutes === 1440 ? 'every day' : `every ${minutes / 1440} days`;
  if (hours === 1) return 'every hour';
  return `every ${Math.round(hours * 10) / 10} hours`;
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/**
 * "just now", "4 minutes ago", "in 5 minutes", "yesterday", "3 days ago"; the input itself when it does
 * not parse. `now` is passed in so the caller decides when it is re-rendered.
 */
export function formatRelative(iso: string, now: number): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const diff = (ms - now) / 1000;
  const abs = Math.abs(diff);
  if (abs < 45) return diff <= 0 ? 'just now' : 'in a few seconds';
  const round = (v: number) => (diff < 0 ? -Math.max(1, Math.round(v)) : Math.max(1, Math.round(v)));
  if (abs < 45 * 60) return relative.format(round(abs / 60), 'minute');
  if (abs < 22 * 3600) return relative.format(round(abs / 3600), 'hour');
  if (abs < 26 * 86_400) return relative.format(round(abs / 86_400), 'day');
  if (abs < 320 * 86_400) return relative.format(round(abs / (30 * 86_400)), 'month');
  return relative.format(round(abs / (365 * 86_400)), 'year');
}

const exact = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const dateOnly = new Intl.DateTimeFormat(undefined, {
  weekday: 'long',
  year: 'numeric',
  month: 'long',
  day: 'numeric',
});
const timeOnly = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const shortDate = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

/** The exact local date and time, to the second: "Tue, 3 Mar 2026, 14:03:27" */
export function formatExact(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : exact.format(ms);
}

/** "Tuesday, 3 March 2026" */
export function formatDay(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : dateOnly.format(ms);
}

/** "14:03:27" */
export function formatClock(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : timeOnly.format(ms);
}

/** "3 Mar 2026" */
export function formatDate(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : shortDate.format(ms);
}

/** 0.4567 → "45 %"; clamped to 0..100, never "100 %" before the end */
export function formatPercent(done: number, total: number | undefined): string | undefined {
  if (total === undefined || total <= 0 || !Number.isFinite(done)) return undefined;
  const pct = Math.floor((Math.min(done, total) / total) * 100);
  return `${done < total ? Math.min(pct, 99) : 100} %`;
}

/** "1 file", "1,234 files" */
export function formatCount(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}
