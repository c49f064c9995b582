import { useMemo } from 'react';

import type { JobPhase, RunSummary } from '../../../../src-main/contract/model.ts';
import { isActive, jobsSelectors, jobsStore, useJobsStore } from '../../stores/jobs/index.ts';
import { sourcesSelectors, useSourcesStore } from '../../stores/sources/index.ts';
import { Panel } from '../../ui/Panel.tsx';
import { formatBytes, formatDuration, formatRate, formatTime } from '../../ui/format.ts';
import { Empty, ErrorNotice, Loading } from '../../ui/StatusView.tsx';

const PHASE_LABEL: Record<JobPhase, string> = {
  scanning: 'Looking for changes',
  'backing-up': 'Backing up',
  finalizing: 'Finishing',
  restoring: 'Restoring',
  verifying: 'Verifying',
};

const REASON_LABEL = {
  manual: 'asked for',
  watch: 'files changed',
  rescan: 'scheduled',
  retry: 'retry',
  resume: 'resumed',
} as const;

function SourceName({ sourceId }: { sourceId: string | undefined }) {
  const name = useSourcesStore(sourcesSelectors.nameOf(sourceId));
  return <>{name ?? 'a removed source'}</>;
}

/** A running job: progress bar (bytes), files, rate, ETA and the file being read; cancel. */
function CurrentJob({ jobId }: { jobId: string }) {
  const job = useJobsStore(jobsSelectors.job(jobId));
  const pending = useJobsStore(jobsSelectors.pending);
  if (!job) return null;
  const p = job.progress;
  const canceling = job.state === 'canceling';
  return (
    <div className="job" data-job-id={job.jobId} data-state={job.state}>
      <div className="job__title">
        <strong>
          <SourceName sourceId={job.sourceId} />
        </strong>{' '}
        <span className="muted">
          {canceling ? 'canceling…' : p ? PHASE_LABEL[p.phase] : 'starting'}
          {job.reason ? ` · ${REASON_LABEL[job.reason]}` : ''}
        </span>
        <button
          type="button"
          className="job__cancel"
          onClick={() => void jobsStore.getState().cancel(job.jobId)}
          disabled={canceling || pending}
        >
          {canceling ? 'Canceling…' : 'Cancel'}
        </button>
      </div>
      {p?.bytesTotal !== undefined ? (
        <progress
          max={Math.max(1, p.bytesTotal)}
          value={p.bytesDone}
          aria-label={`${Math.floor((p.bytesDone / Math.max(1, p.bytesTotal)) * 100)} % backed up`}
        />
      ) : (
        <progress aria-label="working" />
      )}
      {p ? (
        <div className="job__facts small">
          <span>
            {formatBytes(p.bytesDone)}
            {p.bytesTotal !== undefined ? ` of ${formatBytes(p.bytesTotal)}` : ''}
          </span>
          <span>
            {p.filesDone} {p.filesTotal !== undefined ? `of ${p.filesTotal} ` : ''}files
          </span>
          {p.rate > 0 ? <span>{formatRate(p.rate)}</span> : null}
          {p.etaSeconds !== undefined && p.etaSeconds >= 1 ? (
            <span>about {formatDuration(p.etaSeconds)} left</span>
          ) : null}
          {p.bytesAdded !== undefined ? <span>{formatBytes(p.bytesAdded)} new</span> : null}
        </div>
      ) : null}
      {p?.currentPath ? (
        <div className="job__path muted small" title={p.currentPath}>
          <bdi dir="ltr">{p.currentPath}</bdi>
        </div>
      ) : null}
    </div>
  );
}

const RUN_LABEL: Record<RunSummary['state'], string> = {
  running: 'running',
  succeeded: 'done',
  failed: 'failed',
  canceled: 'canceled',
  interrupted: 'interrupted',
};

function History() {
  const history = useJobsStore(jobsSelectors.history);
  if (history.length === 0) return null;
  return (
    <details className="history">
      <summary>Recent runs ({history.length})</summary>
      <table className="table">
        <thead>
          <tr>
            <th>Started</th>
            <th>Source</th>
            <th>Result</th>
            <th>Files</th>
            <th>New data</th>
          </tr>
        </thead>
        <tbody>
          {history.map((r) => (
            <tr key={r.runId} data-state={r.state}>
              <td>{formatTime(r.startedAt)}</td>
              <td>
                <SourceName sourceId={r.sourceId} />
              </td>
              <td className={r.state === 'failed' ? 'status--error' : undefined}>
                {RUN_LABEL[r.state]}
                {r.reason ? ` (${REASON_LABEL[r.reason]})` : ''}
                {r.state === 'failed' && r.error ? <div className="small">{r.error}</div> : null}
              </td>
              <td className="num">
                {r.files ?? '–'}
                {r.filesChanged !== undefined ? ` (${r.filesChanged} new or changed)` : ''}
              </td>
              <td className="num">{r.bytesAdded !== undefined ? formatBytes(r.bytesAdded) : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

export function JobsPanel() {
  const order = useJobsStore(jobsSelectors.order);
  const byId = useJobsStore(jobsSelectors.byId);
  const paused = useJobsStore(jobsSelectors.paused);
  const pending = useJobsStore(jobsSelectors.pending);
  const status = useJobsStore(jobsSelectors.status);
  const error = useJobsStore(jobsSelectors.error);
  const actionError = useJobsStore(jobsSelectors.actionError);

  const { running, queued } = useMemo(() => {
    const jobs = order.map((id) => byId[id]).filter((j) => j !== undefined);
    return {
      running: jobs.filter((j) => isActive(j.state)).map((j) => j.jobId),
      queued: jobs.filter((j) => j.state === 'queued'),
    };
  }, [order, byId]);

  let body;
  if (error && order.length === 0)
    body = <ErrorNotice error={error} onRetry={() => void jobsStore.getState().load()} />;
  else if (status === 'loading' && order.length === 0) body = <Loading what="jobs" />;
  else if (running.length === 0 && queued.length === 0)
    body = <Empty>Nothing is running. Changed files are backed up after a short quiet period.</Empty>;
  else
    body = (
      <>
        {running.map((id) => (
          <CurrentJob key={id} jobId={id} />
        ))}
        {queued.length > 0 ? (
          <p className="muted">
            Waiting:{' '}
            {queued.map((j, i) => (
              <span key={j.jobId}>
                {i > 0 ? ', ' : ''}
                <SourceName sourceId={j.sourceId} />
                {j.reason ? ` (${REASON_LABEL[j.reason]})` : ''}
              </span>
            ))}
          </p>
        ) : null}
      </>
    );

  return (
    <Panel
      title="Jobs"
      actions={
        paused ? (
          <button type="button" onClick={() => void jobsStore.getState().resumeAll()} disabled={pending}>
            Resume backups
          </button>
        ) : (
          <button type="button" onClick={() => void jobsStore.getState().pauseAll()} disabled={pending}>
            Pause all
          </button>
        )
      }
    >
      {paused ? (
        <p className="notice--paused" role="status">
          Backups are paused: nothing starts until you resume. Folders are not protected meanwhile.
        </p>
      ) : null}
      {actionError ? <ErrorNotice error={actionError} /> : null}
      {body}
      <History />
    </Panel>
  );
}
