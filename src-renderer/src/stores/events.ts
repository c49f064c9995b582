import type { StoreApi } from 'zustand/vanilla';

import type { BulwarkClient } from '../api/client.ts';
import type { AlertsStore } from './alerts/store.ts';
import { isFinal, type JobsStore } from './jobs/store.ts';
import type { RepositoryStore } from './repository/store.ts';
import type { FlowStore } from './restore/flow.ts';
import type { ServiceStore } from './service/store.ts';
import type { SnapshotsStore } from './snapshots/store.ts';
import type { SourcesStore } from './sources/store.ts';

export interface EventStores {
  jobs: StoreApi<JobsStore>;
  sources?: StoreApi<SourcesStore>;
  alerts?: StoreApi<AlertsStore>;
  /** reloaded when a backup has made a snapshot */
  snapshots?: StoreApi<SnapshotsStore>;
  repository?: StoreApi<RepositoryStore>;
  /** service.status (the overall answer): reloaded soon after anything it depends on changed */
  service?: StoreApi<ServiceStore>;
  /** the restore dialog follows its own job */
  restore?: StoreApi<FlowStore>;
  /** a new alert, for the polite live region */
  onAlertRaised?: (text: string) => void;
}

/**
 * The one subscriber that writes main-side events into the stores (components never subscribe to events
 * themselves). Returns the function that stops it.
 */
export function connectEvents(client: BulwarkClient, stores: EventStores): () => void {
  const reloadStatus = () => stores.service?.getState().reloadSoon();
  const unsubscribe = [
    client.on('bulwark:job.progress', (progress) => {
      stores.jobs.getState().applyProgress(progress);
      stores.restore?.getState().applyProgress(progress);
    }),
    client.on('bulwark:job.state', (event) => {
      stores.jobs.getState().applyState(event);
      stores.restore?.getState().applyState(event);
      reloadStatus();
      if (!isFinal(event.state)) return;
      // a finished job is a new run in the history, and maybe a new snapshot
      void stores.jobs.getState().load();
      if (event.state === 'succeeded' && event.snapshotId !== undefined) {
        void stores.snapshots?.getState().load();
        void stores.repository?.getState().load();
      }
    }),
    client.on('bulwark:source.changed', (event) => {
      stores.sources?.getState().applyChanged(event);
      reloadStatus();
    }),
    client.on('bulwark:alert.raised', (alert) => {
      stores.alerts?.getState().applyAlert(alert);
      stores.onAlertRaised?.(alert.text);
      reloadStatus();
    }),
    client.on('bulwark:alert.cleared', (alert) => {
      stores.alerts?.getState().applyAlert(alert);
      reloadStatus();
    }),
    client.on('bulwark:alert.acknowledged', (alert) => stores.alerts?.getState().applyAlert(alert)),
  ];
  return () => {
    for (const off of unsubscribe) off();
  };
}
