import { Download, FlaskConical } from 'lucide-react';
import { useCallback, useEffect, useRef, useState } from 'react';

import type { Drill } from '../../../../src-main/contract/drills.ts';
import type { SourceStatus } from '../../../../src-main/contract/model.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import { getClient } from '../../api/index.ts';
import { isFinal, useJobsStore, type JobsStore } from '../../stores/jobs/index.ts';
import { notifyStore } from '../../stores/notify/index.ts';
import { Button } from '../../ui/Button.tsx';
import { formatBytes, formatCount, formatDuration } from '../../ui/format.ts';
import { RelativeTime } from '../../ui/RelativeTime.tsx';
import { InlineError } from '../../ui/States.tsx';
import { StatusBadge } from '../../ui/StatusBadge.tsx';

import './drill.css';

/** Paths of damaged files shown here; the report lists them all. */
const SHOWN_FAILURES = 3;

/** "<job id>:<state>" of the newest restore test of a source (a string: stable for the store). */
const drillJobOf =
  (sourceId: string) =>
  (s: JobsStore): string | undefined => {
    for (let i = s.order.length - 1; i >= 0; i--) {
      const job = s.byId[s.order[i]!];
      if (job?.kind === 'drill' && job.sourceId === sourceId) return `${job.jobId}:${job.state}`;
    }
    return undefined;
  };

/** "a full restore would take about 2 h 10 min; allowed: 4 h" in plain words. */
function fullRestoreText(d: Drill): string {
  if (d.estimatedFullSeconds === undefined) return 'How long a full restore takes could not be measured.';
  const est = `A full restore would take about ${formatDuration(d.estimatedFullSeconds)}`;
  if (d.rtoMinutes === undefined) return `${est}.`;
  const allowed = formatDuration(d.rtoMinutes * 60);
  return d.rtoVerdict === 'exceeded'
    ? `${est}: longer than the ${allowed} you allow.`
    : `${est}, within the ${allowed} you allow.`;
}

/** Saves the report (a self-contained HTML page) as a file to keep, open and print. */
function saveFile(html: string, fileName: string): void {
  const url = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  // the download has the bytes once click() returns; the URL is freed a little later for slow browsers
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * The restore test of one folder (Sources page): the last result, how long a full restore would take
 * against the time allowed, "Run a restore test now" and the report to keep for an auditor.
 */
export function DrillPanel({ source }: { source: SourceStatus }) {
  const { id: sourceId, name } = source;
  const [last, setLast] = useState<Drill | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<ResultError | undefined>();
  const [actionError, setActionError] = useState<ResultError | undefined>();
  const [starting, setStarting] = useState(false);
  const [saving, setSaving] = useState(false);
  const jobKey = useJobsStore(drillJobOf(sourceId));
  const jobState = jobKey?.slice(jobKey.indexOf(':') + 1);
  const running = jobState !== undefined && !isFinal(jobState as Parameters<typeof isFinal>[0]);
  const ticket = useRef(0);

  const load = useCallback(async () => {
    const mine = ++ticket.current;
    const r = await getClient().call('bulwark:drills.list', { sourceId, limit: 1 });
    if (mine !== ticket.current) return;
    if (r.ok) {
      setLast(r.value.drills[0] ?? null);
      setLoadError(undefined);
    } else setLoadError(r.error);
  }, [sourceId]);

  // on first show, and whenever a restore test of this folder finishes
  useEffect(() => {
    if (!running) void load();
  }, [load, running, jobKey]);

  async function runNow() {
    setStarting(true);
    setActionError(undefined);
    const r = await getClient().call('bulwark:drills.run', { sourceId });
    setStarting(false);
    if (r.ok) notifyStore.getState().toast(`Restore test of ${name} started`);
    else setActionError(r.error);
  }

  async function saveReport() {
    setSaving(true);
    setActionError(undefined);
    const r = await getClient().call('bulwark:drills.report', { sourceId });
    setSaving(false);
    if (r.ok) saveFile(r.value.html, r.value.fileName);
    else setActionError(r.error);
  }

  const headingId = `drill-${sourceId}`;
  let body;
  if (loadError && last === undefined) body = <InlineError error={loadError} />;
  else if (last === undefined) body = <p className="drill__text">Loading the last restore test…</p>;
  else if (last === null)
    body = (
      <p className="drill__text">
        No restore test yet. Bulwark runs one {scheduleWords(source.drillEveryDays ?? 7)}; you can run one
        now.
      </p>
    );
  else
    body = (
      <>
        <p className="drill__text">
          <StatusBadge
            tone={!last.passed ? 'danger' : last.rtoVerdict === 'exceeded' ? 'warning' : 'success'}
          >
            {last.passed ? 'Passed' : last.error ? 'Could not run' : 'Failed'}
          </StatusBadge>{' '}
          <RelativeTime iso={last.startedAt} prefix="Last test " />
          {': '}
          {last.error
            ? last.error
            : last.passed
              ? `${formatCount(last.filesTested, 'file')} (${formatBytes(last.bytesTested)}) restored intact.`
              : `${formatCount(last.failures.length, 'file')} did not come back intact.`}
        </p>
        {last.failures.length > 0 ? (
          <ul className="drill__failures" aria-label={`Files of ${name} that did not come back intact`}>
            {last.failures.slice(0, SHOWN_FAILURES).map((f) => (
              <li key={f.path} className="mono">
                {f.path}
              </li>
            ))}
            {last.failures.length > SHOWN_FAILURES ? (
              <li>and {last.failures.length - SHOWN_FAILURES} more (see the report)</li>
            ) : null}
          </ul>
        ) : null}
        {last.error === undefined ? <p className="drill__text">{fullRestoreText(last)}</p> : null}
      </>
    );

  return (
    <section className="drill" aria-labelledby={headingId} data-drill-source={sourceId}>
      <h3 id={headingId} className="drill__title">
        Restore test
      </h3>
      <div aria-live="polite">
        {running ? <p className="drill__text">Restore test of {name} running…</p> : body}
      </div>
      {actionError ? <InlineError error={actionError} /> : null}
      <div className="drill__actions">
        <Button
          size="sm"
          icon={FlaskConical}
          onPress={() => void runNow()}
          isDisabled={running || source.lastSnapshotAt === undefined}
          isPending={starting}
        >
          {`Run a restore test of ${name} now`}
        </Button>
        <Button
          size="sm"
          variant="ghost"
          icon={Download}
          onPress={() => void saveReport()}
          isDisabled={!last}
          isPending={saving}
        >
          {`Save the restore test report of ${name}`}
        </Button>
      </div>
    </section>
  );
}

function scheduleWords(days: number): string {
  if (days === 1) return 'every day';
  if (days === 7) return 'every week';
  return `every ${days} days`;
}
