import { CircleCheck, CircleSlash, CircleX, LoaderCircle, type LucideIcon } from 'lucide-react';

import type { RunSummary } from '../../../../src-main/contract/model.ts';
import { jobsSelectors, jobsStore, useJobsStore } from '../../stores/jobs/index.ts';
import { ErrorState, Skeleton } from '../../ui/States.tsx';
import { sourcesSelectors, useSourcesStore } from '../../stores/sources/index.ts';
import { Card } from '../../ui/Card.tsx';
import { formatBytes, formatCount } from '../../ui/format.ts';
import { RelativeTime } from '../../ui/RelativeTime.tsx';
import { plainRunError, REASON_LABEL } from '../../ui/words.ts';

const RUN: Record<RunSummary['state'], { icon: LucideIcon; tone: string; words: string }> = {
  running: { icon: LoaderCircle, tone: 'info', words: 'Backing up' },
  succeeded: { icon: CircleCheck, tone: 'success', words: 'Backed up' },
  failed: { icon: CircleX, tone: 'danger', words: 'Backup failed' },
  canceled: { icon: CircleSlash, tone: 'neutral', words: 'Backup stopped' },
  interrupted: { icon: CircleSlash, tone: 'neutral', words: 'Backup interrupted (continues later)' },
};

function SourceName({ sourceId }: { sourceId: string | undefined }) {
  const name = useSourcesStore(sourcesSelectors.nameOf(sourceId));
  return <>{name ?? 'A removed folder'}</>;
}

function details(r: RunSummary): string | undefined {
  if (r.state === 'failed') return r.error === undefined ? undefined : plainRunError(r.error);
  const parts: string[] = [];
  if (r.files !== undefined) parts.push(formatCount(r.files, 'file'));
  if (r.filesChanged !== undefined) parts.push(`${r.filesChanged.toLocaleString('en')} new or changed`);
  if (r.bytesAdded !== undefined && r.bytesAdded > 0) parts.push(`${formatBytes(r.bytesAdded)} stored`);
  if (r.reason) parts.push(REASON_LABEL[r.reason]);
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

/** The last backups, newest first: what ran, how it ended, and when. */
export function RecentActivity({ limit = 8 }: { limit?: number }) {
  const history = useJobsStore(jobsSelectors.history);
  const status = useJobsStore(jobsSelectors.status);
  const error = useJobsStore(jobsSelectors.error);
  const runs = history.slice(0, limit);
  return (
    <Card title="Recent activity">
      {runs.length === 0 && error ? (
        <ErrorState
          error={error}
          title="Could not load the recent backups"
          onRetry={() => void jobsStore.getState().load()}
          compact
          headingLevel={3}
        />
      ) : runs.length === 0 && status !== 'ready' ? (
        <Skeleton lines={2} label="Loading the recent backups…" />
      ) : runs.length === 0 ? (
        <p className="muted">No backups yet. They appear here as they run.</p>
      ) : (
        <ol className="activity">
          {runs.map((r) => {
            const look = RUN[r.state];
            const Icon = look.icon;
            const more = details(r);
            return (
              <li key={r.runId} className="activity__item" data-state={r.state}>
                <Icon aria-hidden="true" size={18} className={`activity__icon text-${look.tone}`} />
                <div className="activity__body">
                  <p className="activity__title">
                    {look.words}: <SourceName sourceId={r.sourceId} />
                  </p>
                  {more ? <p className="activity__details">{more}</p> : null}
                </div>
                <span className="activity__when">
                  <RelativeTime iso={r.finishedAt ?? r.startedAt} />
                </span>
              </li>
            );
          })}
        </ol>
      )}
    </Card>
  );
}
