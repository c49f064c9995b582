import { useEffect } from 'react';

import { alertsStore } from '../../stores/alerts/index.ts';
import { appSelectors, useAppStore } from '../../stores/app/index.ts';
import { jobsStore } from '../../stores/jobs/index.ts';
import { repositoryStore } from '../../stores/repository/index.ts';
import { snapshotsStore } from '../../stores/snapshots/index.ts';
import { sourcesStore } from '../../stores/sources/index.ts';
import { AlertsPanel } from '../alerts/AlertsPanel.tsx';
import { JobsPanel } from '../jobs/JobsPanel.tsx';
import { SourcesPanel } from '../sources/SourcesPanel.tsx';
import { RepositoryPanel } from './RepositoryPanel.tsx';
import { SnapshotsPanel } from './SnapshotsPanel.tsx';

export function Dashboard() {
  const name = useAppStore(appSelectors.name);
  const version = useAppStore(appSelectors.versionLabel);
  const transport = useAppStore(appSelectors.transport);

  useEffect(() => {
    void sourcesStore.getState().load();
    void jobsStore.getState().load();
    void alertsStore.getState().load();
    void repositoryStore.getState().load();
    void snapshotsStore.getState().load();
  }, []);

  return (
    <main className="app">
      <header className="app__header">
        <h1>{name}</h1>
        <span className="muted">
          {version}
          {transport === 'http' ? ' · browser' : ''}
        </span>
      </header>
      <AlertsPanel />
      <JobsPanel />
      <SourcesPanel />
      <RepositoryPanel />
      <SnapshotsPanel />
    </main>
  );
}
