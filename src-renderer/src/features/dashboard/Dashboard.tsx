import { useEffect } from 'react';

import { appSelectors, useAppStore } from '../../stores/app/index.ts';
import { repositoryStore } from '../../stores/repository/index.ts';
import { snapshotsStore } from '../../stores/snapshots/index.ts';
import { ActivityPanel } from './ActivityPanel.tsx';
import { RepositoryPanel } from './RepositoryPanel.tsx';
import { SnapshotsPanel } from './SnapshotsPanel.tsx';

export function Dashboard() {
  const name = useAppStore(appSelectors.name);
  const version = useAppStore(appSelectors.versionLabel);
  const transport = useAppStore(appSelectors.transport);

  useEffect(() => {
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
      <ActivityPanel />
      <RepositoryPanel />
      <SnapshotsPanel />
    </main>
  );
}
