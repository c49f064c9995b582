import { useMemo } from 'react';
import { Label, ListBox, ListBoxItem } from 'react-aria-components';

import type { SnapshotSummary } from '../../../../src-main/contract/model.ts';
import { dayKey, groupByDay } from '../../stores/restore/timeline.ts';
import { Select } from '../../ui/fields.tsx';
import { formatBytes, formatClock, formatCount, formatDay } from '../../ui/format.ts';

/**
 * Choose a point in time: a day (the days that have backups, newest first), then one of that day's
 * backups by its time. Two steps keep a year of backups every 15 minutes usable.
 */
export function SnapshotPicker({
  snapshots,
  selectedId,
  onSelect,
}: {
  snapshots: readonly SnapshotSummary[];
  selectedId: string | undefined;
  onSelect: (snapshot: SnapshotSummary) => void;
}) {
  const days = useMemo(() => groupByDay(snapshots), [snapshots]);
  const selected = snapshots.find((s) => s.id === selectedId);
  const currentDay = selected ? dayKey(selected.time) : days[0]?.day;
  const day = days.find((d) => d.day === currentDay) ?? days[0];
  if (!day) return null;
  return (
    <div className="snap-picker">
      <Select
        label="Day"
        value={day.day}
        onChange={(key) => {
          const first = days.find((d) => d.day === key)?.snapshots[0];
          if (first) onSelect(first);
        }}
        choices={days.map((d) => ({
          value: d.day,
          label: `${formatDay(d.snapshots[0]!.time)} (${formatCount(d.snapshots.length, 'backup')})`,
        }))}
      />
      <div className="field">
        <Label className="field__label" id="snap-times-label">
          Time
        </Label>
        <ListBox
          aria-labelledby="snap-times-label"
          className="listbox listbox--inline snap-picker__times"
          selectionMode="single"
          disallowEmptySelection
          selectedKeys={selected ? [selected.id] : []}
          onSelectionChange={(keys) => {
            if (keys === 'all') return;
            const id = [...keys][0];
            const snap = day.snapshots.find((s) => s.id === id);
            if (snap) onSelect(snap);
          }}
          items={day.snapshots}
        >
          {(s) => (
            <ListBoxItem
              id={s.id}
              textValue={formatClock(s.time)}
              className="listbox__item snap-picker__time"
            >
              <span className="snap-picker__clock">{formatClock(s.time)}</span>
              <span className="snap-picker__stats">
                {formatCount(s.stats.files, 'file')} · {formatBytes(s.stats.bytes)}
              </span>
            </ListBoxItem>
          )}
        </ListBox>
      </div>
    </div>
  );
}
