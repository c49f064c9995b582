import { Bell, FolderPlus, Play } from 'lucide-react';
import { useState } from 'react';

import { alertsSelectors, useAlertsStore } from '../../stores/alerts/index.ts';
import { jobsSelectors, jobsStore, useJobsStore } from '../../stores/jobs/index.ts';
import { hrefOf } from '../../stores/router/index.ts';
import { serviceStore } from '../../stores/service/index.ts';
import { sourcesSelectors, useSourcesStore } from '../../stores/sources/index.ts';
import { Banner } from '../../ui/Banner.tsx';
import { Button, LinkButton } from '../../ui/Button.tsx';
import { PageHeader } from '../../ui/PageHeader.tsx';
import { EmptyState } from '../../ui/States.tsx';
import { SourceFormDialog } from '../sources/SourceFormDialog.tsx';
import { useSourceListLoadState } from '../sources/SourceListLoadState.tsx';
import { RecentActivity } from './RecentActivity.tsx';
import { RestoreFromExistingBackup } from './RestoreFromExistingBackup.tsx';
import { SourceCard } from './SourceCard.tsx';

export function OverviewPage() {
  const items = useSourcesStore(sourcesSelectors.items);
  const empty = useSourcesStore(sourcesSelectors.isEmpty);
  const loadState = useSourceListLoadState({
    errorTitle: 'Could not load the protected folders',
    loadingLabel: 'Loading the protected folders…',
  });
  const openAlerts = useAlertsStore(alertsSelectors.activeCount);
  const paused = useJobsStore(jobsSelectors.paused);
  const pending = useJobsStore(jobsSelectors.pending);
  const [adding, setAdding] = useState(false);

  async function resume() {
    await jobsStore.getState().resumeAll();
    void serviceStore.getState().load();
  }

  let body;
  if (loadState) body = loadState;
  else if (empty)
    body = (
      <EmptyState
        icon={FolderPlus}
        title="Add the first folder to protect"
        action={
          <>
            <Button variant="primary" icon={FolderPlus} onPress={() => setAdding(true)}>
              Add a folder
            </Button>
            <RestoreFromExistingBackup />
          </>
        }
      >
        <p>
          Choose a folder with the office’s files: Bulwark backs it up now, then again whenever something
          changes. Nobody can change or delete those backups afterwards.
        </p>
      </EmptyState>
    );
  else
    body = (
      <section aria-labelledby="overview-folders" className="section">
        <h2 id="overview-folders" className="section__title">
          Protected folders
        </h2>
        <div className="card-grid">
          {items.map((s) => (
            <SourceCard key={s.id} sourceId={s.id} />
          ))}
        </div>
      </section>
    );

  return (
    <>
      <PageHeader title="Overview" description="What Bulwark protects, and how it is going." />
      {paused ? (
        <Banner
          tone="warning"
          title="Backups are paused"
          actions={
            <Button variant="primary" icon={Play} onPress={() => void resume()} isPending={pending}>
              Resume backups
            </Button>
          }
        >
          Nothing is backed up until you resume, so changes made meanwhile are not protected.
        </Banner>
      ) : null}
      {openAlerts > 0 ? (
        <Banner
          tone="warning"
          icon={Bell}
          title={openAlerts === 1 ? '1 open alert' : `${openAlerts} open alerts`}
          actions={
            <LinkButton href={hrefOf('alerts')} size="sm">
              See the alerts
            </LinkButton>
          }
        >
          Something needs attention. Each alert says what to do.
        </Banner>
      ) : null}
      {body}
      {items.length > 0 ? <RecentActivity /> : null}
      <SourceFormDialog isOpen={adding} onClose={() => setAdding(false)} />
    </>
  );
}
