import type { StoreApi } from 'zustand/vanilla';

import type { BulwarkClient } from '../api/client.ts';
import type { AlertsStore } from './alerts/store.ts';
import { isFinal, type JobsStore } from './jobs/store.ts';
import type { RepositoryStore } from './repository/store.ts';
import type { SnapshotsStore } from './snapshots/store.ts';
import type { SourcesStore } from './sources/store.ts';

export interface EventStores {
  jobs: StoreApi<JobsStore>;
  sources?: StoreApi<SourcesStore>;
  alerts?: StoreApi<AlertsStore>;
  /** reloaded when a backup has made a snapshot */
  snapshots?: StoreApi<SnapshotsStore>;
  repository?: StoreApi<RepositoryStore>;
}

/**
 * The one subscriber that writes main-side events into the stores (components never subscribe to events
 * themselves). Returns the function that stops it.
 */
export function connectEvents(client: BulwarkClient, stores: EventStores): () => void {
  const unsubscribe = [
    client.on('bulwark:job.progress', (progress) => stores.jobs.getState().applyProgress(progress)),
    client.on('bulwark:job.state', (event) => {
      stores.jobs.getState().applyState(event);
      if (!isFinal(event.state)) return;
      // a finished job is a new run in the history, and maybe a new snapshot
      void stores.jobs.getState().load();
      if (event.state === 'succeeded' && event.snapshotId !== undefined) {
        void stores.snapshots?.getState().load();
        void stores.repository?.getState().load();
      }
    }),
    client.on('bulwark:source.changed', (event) => stores.sources?.getState().applyChanged(event)),
    client.on('bulwark:alert.raised', (alert) => stores.alerts?.getState().applyAlert(alert)),
    client.on('bulwark:alert.cleared', (alert) => stores.alerts?.getState().applyAlert(alert)),
    client.on('bulwark:alert.acknowledged', (alert) => stores.alerts?.getState().applyAlert(alert)),
  ];
  return () => {
    for (const off of unsubscribe) off();
  };
}
