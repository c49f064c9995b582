import type { StoreApi } from 'zustand/vanilla';

import type { BulwarkClient } from '../api/client.ts';
import type { JobsStore } from './jobs/store.ts';

/** The one subscriber that writes main-side events into the stores. Returns the function that stops it. */
export function connectEvents(client: BulwarkClient, stores: { jobs: StoreApi<JobsStore> }): () => void {
  const unsubscribe = [
    client.on('bulwark:job.progress', (progress) => stores.jobs.getState().applyProgress(progress)),
    client.on('bulwark:job.state', (event) => stores.jobs.getState().applyState(event)),
  ];
  return () => {
    for (const off of unsubscribe) off();
  };
}
