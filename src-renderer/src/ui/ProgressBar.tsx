import { useEffect, useRef } from 'react';
import { ProgressBar as AriaProgressBar } from 'react-aria-components';

import { notifyStore } from '../stores/notify/index.ts';

import type { JobProgress } from '../../../src-main/contract/model.ts';
import { formatBytes, formatCount, formatEta, formatPercent, formatRate } from './format.ts';
import { PHASE_LABEL } from './words.ts';

/** A labelled bar (react-aria: role progressbar with its value); indeterminate without a total. */
export function ProgressBar({
  label,
  value,
  max,
  valueText,
}: {
  label: string;
  value: number;
  max: number | undefined;
  valueText?: string;
}) {
  const determinate = max !== undefined && max > 0;
  return (
    <AriaProgressBar
      className="progress"
      aria-label={label}
      value={determinate ? Math.min(value, max) : undefined}
      maxValue={determinate ? max : undefined}
      isIndeterminate={!determinate}
      valueLabel={valueText}
    >
      {({ percentage }) => (
        <div className="progress__track">
          <div
            className={`progress__fill${determinate ? '' : ' progress__fill--indeterminate'}`}
            style={determinate ? { width: `${percentage ?? 0}%` } : undefined}
          />
        </div>
      )}
    </AriaProgressBar>
  );
}

/** The facts of a running job: "12.4 MB of 80 MB · 120 of 300 files · 12.4 MB/s · about 3 minutes left". */
export function progressFacts(p: JobProgress): string[] {
  const facts = [
    p.bytesTotal !== undefined
      ? `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`
      : formatBytes(p.bytesDone),
    p.filesTotal !== undefined
      ? `${p.filesDone.toLocaleString('en')} of ${formatCount(p.filesTotal, 'file')}`
      : formatCount(p.filesDone, 'file'),
  ];
  if (p.rate > 0) facts.push(formatRate(p.rate));
  const eta = formatEta(p.etaSeconds);
  if (eta && p.rate > 0) facts.push(eta);
  return facts;
}

/** A job's progress: phase, bar (bytes), and the facts line. */
export function JobProgressView({ progress, label }: { progress: JobProgress | undefined; label: string }) {
  useProgressAnnouncer(label, progress);
  if (!progress)
    return (
      <div className="job-progress">
        <p className="job-progress__phase">Starting…</p>
        <ProgressBar label={`${label}: starting`} value={0} max={undefined} />
      </div>
    );
  const percent = formatPercent(progress.bytesDone, progress.bytesTotal);
  const phase = PHASE_LABEL[progress.phase];
  return (
    <div className="job-progress">
      <p className="job-progress__phase">
        {phase}
        {percent ? ` · ${percent}` : ''}
      </p>
      <ProgressBar
        label={`${label}: ${phase.toLowerCase()}`}
        value={progress.bytesDone}
        max={progress.bytesTotal}
        valueText={percent}
      />
      <p className="job-progress__facts">
        {progressFacts(progress).map((fact, i) => (
          <span key={i}>{fact}</span>
        ))}
      </p>
    </div>
  );
}

/**
 * Says a job's progress politely, a quarter at a time ("Backup of Office: 50 % done"), so a screen reader
 * hears it move without an announcement per progress event.
 */
export function useProgressAnnouncer(label: string, progress: JobProgress | undefined): void {
  const last = useRef(0);
  useEffect(() => {
    if (!progress?.bytesTotal) return;
    const quarter = Math.floor((Math.min(progress.bytesDone, progress.bytesTotal) / progress.bytesTotal) * 4);
    if (quarter > last.current && quarter < 4) {
      last.current = quarter;
      notifyStore.getState().announce(`${label}: ${quarter * 25} % done`);
    }
  }, [label, progress]);
}
