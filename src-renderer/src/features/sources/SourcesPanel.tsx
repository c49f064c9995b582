import { useState } from 'react';

import type { SourceStatus } from '../../../../src-main/contract/model.ts';
import { jobsSelectors, useJobsStore } from '../../stores/jobs/index.ts';
import { sourcesSelectors, sourcesStore, useSourcesStore } from '../../stores/sources/index.ts';
import { Panel } from '../../ui/Panel.tsx';
import { formatMinutes, formatTime } from '../../ui/format.ts';
import { Empty, ErrorNotice, Loading } from '../../ui/StatusView.tsx';
import { AddSourceForm } from './AddSourceForm.tsx';

const reload = () => void sourcesStore.getState().load();

type Protection = 'protected' | 'pending' | 'unprotected' | 'disabled';

export function protectionOf(s: SourceStatus): Protection {
  if (!s.enabled) return 'disabled';
  if (s.protected) return 'protected';
  return s.rpoState === 'pending' ? 'pending' : 'unprotected';
}

const PROTECTION_LABEL: Record<Protection, string> = {
  protected: 'Protected',
  pending: 'Not backed up yet',
  unprotected: 'Not protected',
  disabled: 'Paused',
};

const RPO_LABEL: Record<SourceStatus['rpoState'], string> = {
  ok: 'met',
  pending: 'pending',
  missed: 'missed',
};

const WATCH_LABEL = {
  starting: 'starting to watch',
  live: 'watched live',
  polling: 'watched by polling',
  'rescan-only': 'rescans only',
  off: 'not watched',
} as const;

function Activity({ source }: { source: SourceStatus }) {
  const progress = useJobsStore(jobsSelectors.progressOfSource(source.id));
  const job = source.job;
  if (!job) return null;
  if (job.state === 'queued') return <span className="muted">queued</span>;
  if (job.state === 'canceling') return <span className="muted">canceling…</span>;
  const pct =
    progress?.bytesTotal !== undefined && progress.bytesTotal > 0
      ? ` ${Math.floor((progress.bytesDone / progress.bytesTotal) * 100)} %`
      : '';
  return <span className="muted">backing up{pct}…</span>;
}

function SourceRow({ sourceId }: { sourceId: string }) {
  const source = useSourcesStore(sourcesSelectors.source(sourceId));
  const busy = useSourcesStore(sourcesSelectors.busy(sourceId));
  const actionError = useSourcesStore(sourcesSelectors.actionError(sourceId));
  const [confirming, setConfirming] = useState(false);
  if (!source) return null;
  const protection = protectionOf(source);
  const running = source.job !== undefined && source.job.state !== 'queued';
  return (
    <tr data-source-id={source.id} data-protection={protection}>
      <td>
        <strong>{source.name}</strong>
        <div className="muted small">{source.paths.join(', ')}</div>
        {source.exclude.length > 0 ? (
          <div className="muted small">leaves out {source.exclude.join(', ')}</div>
        ) : null}
      </td>
      <td>
        <span className={`badge badge--${protection}`}>{PROTECTION_LABEL[protection]}</span>
        <div className="small">
          <Activity source={source} />
        </div>
        {source.lastRun?.state === 'failed' ? (
          <div className="status--error small">
            last run failed: {source.lastRun.error ?? 'unknown error'}
          </div>
        ) : null}
      </td>
      <td>{source.lastSnapshotAt ? formatTime(source.lastSnapshotAt) : '–'}</td>
      <td>
        {formatMinutes(source.rpoMinutes)}
        <div className={`small rpo rpo--${source.rpoState}`}>{RPO_LABEL[source.rpoState]}</div>
      </td>
      <td>
        {source.nextRunAt ? formatTime(source.nextRunAt) : '–'}
        <div className={`muted small${source.watch?.degraded ? ' status--error' : ''}`}>
          {source.watch ? WATCH_LABEL[source.watch.mode] : ''}
        </div>
      </td>
      <td className="actions">
        <button
          type="button"
          onClick={() => void sourcesStore.getState().runNow(source.id)}
          disabled={busy !== undefined || running || !source.enabled}
        >
          {busy === 'run' ? 'Queuing…' : 'Back up now'}
        </button>
        {confirming ? (
          <>
            <button
              type="button"
              className="danger"
              onClick={() => void sourcesStore.getState().remove(source.id)}
              disabled={busy !== undefined}
            >
              {busy === 'remove' ? 'Removing…' : 'Stop protecting'}
            </button>
            <button type="button" onClick={() => setConfirming(false)} disabled={busy !== undefined}>
              Keep
            </button>
            <div className="muted small">Its snapshots stay in the repository.</div>
          </>
        ) : (
          <button type="button" onClick={() => setConfirming(true)} disabled={busy !== undefined}>
            Remove
          </button>
        )}
        {actionError ? <ErrorNotice error={actionError} /> : null}
      </td>
    </tr>
  );
}

export function SourcesPanel() {
  const items = useSourcesStore(sourcesSelectors.items);
  const error = useSourcesStore(sourcesSelectors.error);
  const initialLoading = useSourcesStore(sourcesSelectors.isInitialLoading);
  const empty = useSourcesStore(sourcesSelectors.isEmpty);
  const [adding, setAdding] = useState(false);

  let body;
  if (error && items.length === 0) body = <ErrorNotice error={error} onRetry={reload} />;
  else if (initialLoading) body = <Loading what="sources" />;
  else if (empty) body = <Empty>No folder is protected yet: add one to start backing it up.</Empty>;
  else if (items.length === 0) body = <Empty>Not loaded.</Empty>;
  else
    body = (
      <table className="table sources">
        <thead>
          <tr>
            <th>Source</th>
            <th>Status</th>
            <th>Last snapshot</th>
            <th>RPO</th>
            <th>Next run</th>
            <th>
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((s) => (
            <SourceRow key={s.id} sourceId={s.id} />
          ))}
        </tbody>
      </table>
    );

  return (
    <Panel
      title="Sources"
      actions={
        adding ? null : (
          <button type="button" onClick={() => setAdding(true)}>
            Add a folder
          </button>
        )
      }
    >
      {adding ? <AddSourceForm onDone={() => setAdding(false)} /> : null}
      {body}
    </Panel>
  );
}
