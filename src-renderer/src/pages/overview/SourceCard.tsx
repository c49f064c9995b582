import { CloudUpload, Square } from 'lucide-react';

import { isActive, jobsSelectors, jobsStore, useJobsStore } from '../../stores/jobs/index.ts';
import { hrefOf } from '../../stores/router/index.ts';
import { sourcesSelectors, sourcesStore, useSourcesStore } from '../../stores/sources/index.ts';
import { notifyStore } from '../../stores/notify/index.ts';
import { Button, LinkButton } from '../../ui/Button.tsx';
import { JobProgressView } from '../../ui/ProgressBar.tsx';
import { RelativeTime } from '../../ui/RelativeTime.tsx';
import { InlineError } from '../../ui/States.tsx';
import { StatusBadge } from '../../ui/StatusBadge.tsx';
import { PROTECTION_LABEL, scheduleLabel, watchLabel } from '../../ui/words.ts';
import { PROTECTION_TONE } from '../protection.ts';
import { CopiesPanel } from './CopiesPanel.tsx';

/** One protected folder on the Overview: its state and why, when it was last and will next be backed up. */
export function SourceCard({ sourceId }: { sourceId: string }) {
  const source = useSourcesStore(sourcesSelectors.source(sourceId));
  const busy = useSourcesStore(sourcesSelectors.busy(sourceId));
  const actionError = useSourcesStore(sourcesSelectors.actionError(sourceId));
  const progress = useJobsStore(jobsSelectors.progressOfSource(sourceId));
  const cancelPending = useJobsStore(jobsSelectors.pending);
  if (!source) return null;

  const { protection } = source;
  const job = source.job;
  const running = job !== undefined && isActive(job.state);
  const queued = job?.state === 'queued';
  const titleId = `source-${source.id}-title`;

  async function backUpNow() {
    if (!source) return;
    await sourcesStore.getState().runNow(source.id);
    if (!sourcesStore.getState().actionErrors[source.id])
      notifyStore.getState().toast(`Backup of ${source.name} started`);
  }

  return (
    <article
      className="source-card card"
      aria-labelledby={titleId}
      data-source-id={source.id}
      data-protection={protection.state}
    >
      <header className="source-card__header">
        <h3 id={titleId} className="source-card__title">
          {source.name}
        </h3>
        <StatusBadge tone={PROTECTION_TONE[protection.state]}>
          {PROTECTION_LABEL[protection.state]}
        </StatusBadge>
      </header>

      {protection.state !== 'protected' && protection.reasons.length === 0 ? (
        <p className="source-card__summary">{protection.summary}</p>
      ) : null}
      {protection.reasons.length > 0 ? (
        <ul
          className="reasons"
          aria-label={`Why ${source.name} is ${PROTECTION_LABEL[protection.state].toLowerCase()}`}
        >
          {protection.reasons.map((r) => (
            <li key={r.code} className="reason" data-code={r.code}>
              <span className="reason__text">{r.text}</span>
              {r.fix ? (
                <LinkButton href={hrefOf(r.fix.page)} size="sm" variant="ghost">
                  {r.fix.label}
                </LinkButton>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}

      <dl className="facts">
        <div>
          <dt>Last backup</dt>
          <dd>{source.lastSnapshotAt ? <RelativeTime iso={source.lastSnapshotAt} /> : 'Never'}</dd>
        </div>
        <div>
          <dt>Next check</dt>
          <dd>
            {running ? (
              'Now'
            ) : queued ? (
              'Waiting to start'
            ) : source.nextRunAt ? (
              <RelativeTime iso={source.nextRunAt} />
            ) : (
              '–'
            )}
          </dd>
        </div>
        <div>
          <dt>Schedule</dt>
          <dd>{scheduleLabel(source.rpoMinutes)}</dd>
        </div>
        {source.watch ? (
          <div>
            <dt>Changes</dt>
            <dd className={source.watch.degraded ? 'text-warning' : undefined}>
              {watchLabel(source.watch.mode, source.rescanMinutes)}
            </dd>
          </div>
        ) : null}
      </dl>

      <CopiesPanel source={source} />

      {running && job ? (
        <div className="source-card__job">
          <JobProgressView progress={progress ?? job.progress} label={`Backup of ${source.name}`} />
          <Button
            size="sm"
            icon={Square}
            onPress={() => void jobsStore.getState().cancel(job.id)}
            isDisabled={job.state === 'canceling' || cancelPending}
          >
            {job.state === 'canceling'
              ? `Stopping the backup of ${source.name}…`
              : `Stop backing up ${source.name}`}
          </Button>
        </div>
      ) : null}

      {actionError ? <InlineError error={actionError} /> : null}

      <footer className="source-card__footer">
        <Button
          variant={protection.state === 'protected' ? 'secondary' : 'primary'}
          icon={CloudUpload}
          onPress={() => void backUpNow()}
          isDisabled={running || queued || !source.enabled}
          isPending={busy === 'run'}
        >
          {`Back up ${source.name} now`}
        </Button>
      </footer>
    </article>
  );
}
