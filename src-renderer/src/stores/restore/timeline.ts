import type { SnapshotSummary } from '../../../../src-main/contract/model.ts';

/** The local calendar day of a time: "2026-03-04". */
export function dayKey(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso.slice(0, 10);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export interface SnapshotDay {
  /** "2026-03-04" (local) */
  day: string;
  /** newest first */
  snapshots: SnapshotSummary[];
}

/** Snapshots grouped by local day, newest day first, newest first within a day. */
export function groupByDay(snapshots: readonly SnapshotSummary[]): SnapshotDay[] {
  const sorted = [...snapshots].sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
  const days: SnapshotDay[] = [];
  for (const snap of sorted) {
    const day = dayKey(snap.time);
    const last = days[days.length - 1];
    if (last?.day === day) last.snapshots.push(snap);
    else days.push({ day, snapshots: [snap] });
  }
  return days;
}
