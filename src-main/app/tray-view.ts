import type { JobProgress, OverallProtection } from '../contract/model.ts';

/**
 * What the tray shows, decided from the same answer the window shows (service.status `overall`, decided
 * on the service side, never greener than the truth) plus the relay's health and the running backups'
 * progress. Pure: the controller (tray.ts) only draws it.
 *
 * State order: the service process is down, or overall is not-protected → error; at-risk (paused
 * included) → warning; protected with a backup running → backing-up; protected → protected. A running
 * backup never hides a warning or an error: its progress shows in the tooltip and the menu in every state.
 */

export type TrayState = 'protected' | 'backing-up' | 'warning' | 'error';
export const TRAY_STATES: readonly TrayState[] = ['protected', 'backing-up', 'warning', 'error'];

export interface TrayInput {
  /** the service process: running, starting, or down (with why) */
  service: { state: 'starting' | 'running' } | { state: 'down'; reason: string };
  /** service.status as last fetched (undefined until the first answer) */
  status?: {
    overall: OverallProtection;
    paused: boolean;
    /** enabled sources that "Back up now" queues */
    sourceIds: string[];
  };
  /** the latest progress of each running backup, by job id */
  progress: ReadonlyMap<string, JobProgress>;
  /** a pause from the tray menu ends at this time (ms since the epoch) */
  pausedUntil?: number;
  now: number;
  /** for tests; default: the computer's */
  timeZone?: string;
  /** how times are written (default: the computer's) */
  locale?: string;
}

export interface TrayView {
  state: TrayState;
  /** 0-100 when the running backups know their totals */
  percent?: number;
  backingUp: boolean;
  headline: string;
  /** "Last backup: today at 14:02" */
  lastBackup: string;
  tooltip: string;
  paused: boolean;
  /** "Paused until 15:30": set when a tray pause is running */
  pausedLabel?: string;
  canBackUpNow: boolean;
  canPause: boolean;
}

/** Windows cuts tray tooltips at 127 characters. */
const TOOLTIP_MAX = 127;

function dayKey(t: number, timeZone: string | undefined): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(t);
}

function clock(t: number, timeZone: string | undefined, locale: string | undefined): string {
  return new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit' }).format(t);
}

/** "today at 14:02", "yesterday at 09:15", "12 Mar 2025 at 14:02" (local time). */
export function whenLabel(t: number, now: number, timeZone?: string, locale?: string): string {
  const at = clock(t, timeZone, locale);
  const day = dayKey(t, timeZone);
  if (day === dayKey(now, timeZone)) return `today at ${at}`;
  if (day === dayKey(now - 86_400_000, timeZone)) return `yesterday at ${at}`;
  if (day === dayKey(now + 86_400_000, timeZone)) return `tomorrow at ${at}`;
  const date = new Intl.DateTimeFormat(locale, { timeZone, day: 'numeric', month: 'short', year: 'numeric' });
  return `${date.format(t)} at ${at}`;
}

/** The share done of the running backups: bytes when every total is known, else files, else unknown. */
export function progressPercent(progress: Iterable<JobProgress>): number | undefined {
  const all = [...progress].filter(
    (p) => p.phase === 'scanning' || p.phase === 'backing-up' || p.phase === 'finalizing',
  );
  if (all.length === 0) return undefined;
  const by = (done: (p: JobProgress) => number, total: (p: JobProgress) => number | undefined) => {
    if (all.some((p) => total(p) === undefined)) return undefined;
    const sumTotal = all.reduce((s, p) => s + (total(p) ?? 0), 0);
    if (sumTotal === 0) return undefined;
    return Math.min(100, Math.floor((100 * all.reduce((s, p) => s + done(p), 0)) / sumTotal));
  };
  return (
    by(
      (p) => p.bytesDone,
      (p) => p.bytesTotal,
    ) ??
    by(
      (p) => p.filesDone,
      (p) => p.filesTotal,
    )
  );
}

export function trayView(input: TrayInput): TrayView {
  const { status, now, timeZone, locale } = input;
  const backingUp = input.progress.size > 0;
  const percent = backingUp ? progressPercent(input.progress.values()) : undefined;
  const paused = status?.paused ?? false;
  let state: TrayState;
  let headline: string;
  if (input.service.state === 'down') {
    state = 'error';
    headline = `Not protected: the backup service stopped (${input.service.reason}); restarting`;
  } else if (!status) {
    state = 'warning'; // not known yet: never shown as protected before the service said so
    headline = 'Checking your backups…';
  } else {
    headline = status.overall.headline;
    state =
      status.overall.state === 'not-protected'
        ? 'error'
        : status.overall.state === 'at-risk'
          ? 'warning'
          : backingUp
            ? 'backing-up'
            : 'protected';
  }
  const last = status?.overall.lastBackupAt;
  const lastBackup = `Last backup: ${last ? whenLabel(Date.parse(last), now, timeZone, locale) : 'never'}`;
  const pausedLabel =
    paused && input.pausedUntil !== undefined
      ? `Paused until ${whenLabel(input.pausedUntil, now, timeZone, locale)}`
      : undefined;
  const activity = backingUp ? `Backing up${percent === undefined ? '…' : `: ${percent}%`}` : undefined;
  const lines = [lastBackup, ...(activity ? [activity] : []), ...(pausedLabel ? [pausedLabel] : [])];
  const tail = `\n${lines.join('\n')}`;
  const room = TOOLTIP_MAX - tail.length - 'Bulwark: '.length;
  const shortHeadline = headline.length > room ? `${headline.slice(0, Math.max(0, room - 1))}…` : headline;
  return {
    state,
    ...(percent !== undefined ? { percent } : {}),
    backingUp,
    headline,
    lastBackup,
    tooltip: `Bulwark: ${shortHeadline}${tail}`,
    paused,
    ...(pausedLabel ? { pausedLabel } : {}),
    canBackUpNow: input.service.state === 'running' && !paused && (status?.sourceIds.length ?? 0) > 0,
    canPause: input.service.state === 'running' && status !== undefined && !paused,
  };
}
