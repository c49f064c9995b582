import { BarChart3 } from 'lucide-react';
import { useCallback, useEffect, useId, useState } from 'react';
import {
  Bar,
  CartesianGrid,
  ComposedChart,
  Line,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';

import type { ResponseOf } from '../../../../src-main/contract/ipc.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import { getClient } from '../../api/index.ts';
import { Card } from '../../ui/Card.tsx';
import { formatBytes } from '../../ui/format.ts';
import { EmptyState, ErrorState, Skeleton } from '../../ui/States.tsx';
import './storage-chart.css';

type StorageHistory = ResponseOf<'bulwark:stats.storage'>;

const DEFAULT_DAYS = 30;

/** "3 Mar" from "2026-03-03" (a local day: no time zone shift) */
function dayLabel(date: string): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'short',
  });
}

function longDay(date: string): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1).toLocaleDateString('en-GB', {
    weekday: 'short',
    day: 'numeric',
    month: 'long',
  });
}

/** "800 B", "1.2 MB": short enough for an axis */
const axisBytes = (v: number): string => formatBytes(v).replace(/ bytes?$/, ' B');

interface Point {
  date: string;
  label: string;
  added: number;
  size: number | null;
  backups: number;
}

function TooltipBody({ active, payload }: { active?: boolean; payload?: readonly { payload?: Point }[] }) {
  const p = payload?.[0]?.payload;
  if (!active || !p) return null;
  return (
    <div className="storage-chart__tooltip">
      <p className="storage-chart__tooltip-day">{longDay(p.date)}</p>
      <p>Size of the backups: {p.size === null ? 'not known yet' : formatBytes(p.size)}</p>
      <p>
        Added that day: {formatBytes(p.added)} ({p.backups} {p.backups === 1 ? 'backup' : 'backups'})
      </p>
    </div>
  );
}

/**
 * A target's storage over time (stats.storage): the size of its backups (line) and the new data added
 * each day (bars), like Backrest's stats panel. The chart is a picture for sighted people; the same numbers
 * are in a summary sentence and a table that screen readers read.
 */
export function StorageChart({
  targetId,
  targetName,
  days = DEFAULT_DAYS,
  headingLevel = 3,
}: {
  targetId: string;
  targetName: string;
  days?: number;
  headingLevel?: 2 | 3;
}) {
  const [data, setData] = useState<StorageHistory | undefined>(undefined);
  const [error, setError] = useState<ResultError | undefined>(undefined);
  const tableId = useId();

  const load = useCallback(async () => {
    setError(undefined);
    const result = await getClient().call('bulwark:stats.storage', { targetId, days });
    if (result.ok) setData(result.value);
    else setError(result.error);
  }, [targetId, days]);

  useEffect(() => {
    void load();
  }, [load]);

  const title = `Storage used on ${targetName}`;
  if (error && !data)
    return (
      <Card title={title} headingLevel={headingLevel} className="storage-chart" data-target={targetId}>
        <ErrorState
          error={error}
          title="Could not load the storage history"
          onRetry={() => void load()}
          compact
        />
      </Card>
    );
  if (!data)
    return (
      <Card title={title} headingLevel={headingLevel} className="storage-chart" data-target={targetId}>
        <Skeleton lines={4} label="Loading the storage history…" />
      </Card>
    );

  const points: Point[] = data.days.map((d) => ({
    date: d.date,
    label: dayLabel(d.date),
    added: d.bytesAdded,
    size: d.repositoryBytes ?? null,
    backups: d.backups,
  }));
  const sized = points.filter((p) => p.size !== null).length;
  const addedTotal = points.reduce((sum, p) => sum + p.added, 0);
  const backups = points.reduce((sum, p) => sum + p.backups, 0);
  const current = data.currentBytes ?? points.findLast((p) => p.size !== null)?.size ?? undefined;
  const summary =
    current === undefined
      ? 'No backup has been made here yet.'
      : `The backups here take ${formatBytes(current)}. ${formatBytes(addedTotal)} of new data was added in the last ${days} days (${backups} ${backups === 1 ? 'backup' : 'backups'}).`;

  return (
    <Card title={title} headingLevel={headingLevel} className="storage-chart" data-target={targetId}>
      {backups === 0 && current === undefined ? (
        <EmptyState icon={BarChart3} title="Nothing stored yet" headingLevel={headingLevel === 2 ? 3 : 3}>
          The chart fills in with each backup to this destination.
        </EmptyState>
      ) : (
        <>
          <p className="storage-chart__summary">{summary}</p>
          <div
            className="storage-chart__plot"
            role="img"
            aria-label={`Chart: ${summary}`}
            aria-describedby={tableId}
          >
            <ResponsiveContainer width="100%" height="100%">
              <ComposedChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
                <CartesianGrid vertical={false} stroke="var(--color-border)" />
                <XAxis
                  dataKey="label"
                  tick={{ fill: 'var(--color-text-muted)', fontSize: 12 }}
                  tickLine={false}
                  axisLine={{ stroke: 'var(--color-border-strong)' }}
                  minTickGap={16}
                />
                <YAxis
                  yAxisId="size"
                  orientation="left"
                  tickFormatter={axisBytes}
                  tick={{ fill: 'var(--color-text-muted)', fontSize: 12 }}
                  tickLine={false}
                  axisLine={false}
                  width={60}
                />
                <YAxis
                  yAxisId="added"
                  orientation="right"
                  tickFormatter={axisBytes}
                  tick={{ fill: 'var(--color-text-muted)', fontSize: 12 }}
                  tickLine={false}
                  axisLine={false}
                  width={60}
                />
                <Tooltip content={<TooltipBody />} cursor={{ fill: 'var(--color-surface-2)' }} />
                <Bar
                  yAxisId="added"
                  dataKey="added"
                  name="Added that day"
                  fill="var(--color-info)"
                  fillOpacity={0.55}
                  radius={[3, 3, 0, 0]}
                  isAnimationActive={false}
                />
                <Line
                  yAxisId="size"
                  dataKey="size"
                  name="Size of the backups"
                  type="stepAfter"
                  stroke="var(--color-primary)"
                  strokeWidth={2}
                  // a line needs two days: until then the days with a size show as points
                  dot={sized <= 2 ? { r: 3, fill: 'var(--color-primary)' } : false}
                  connectNulls
                  isAnimationActive={false}
                />
              </ComposedChart>
            </ResponsiveContainer>
          </div>
          <ul className="storage-chart__legend" aria-hidden="true">
            <li>
              <span className="storage-chart__swatch storage-chart__swatch--size" /> Size of the backups
              (left)
            </li>
            <li>
              <span className="storage-chart__swatch storage-chart__swatch--added" /> Added each day (right)
            </li>
          </ul>
          <table id={tableId} className="visually-hidden">
            <caption>Storage used on {targetName}, per day</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Size of the backups</th>
                <th scope="col">Added that day</th>
              </tr>
            </thead>
            <tbody>
              {points
                .filter((p) => p.backups > 0)
                .map((p) => (
                  <tr key={p.date}>
                    <th scope="row">{longDay(p.date)}</th>
                    <td>{p.size === null ? 'not known' : formatBytes(p.size)}</td>
                    <td>{formatBytes(p.added)}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </>
      )}
    </Card>
  );
}
