import { useStore } from 'zustand';

import { createJobsStore, type JobsStore } from './store.ts';

export { jobsSelectors } from './store.ts';
export type { JobsStore, JobView } from './store.ts';

export const jobsStore = createJobsStore();

export function useJobsStore<T>(selector: (state: JobsStore) => T): T {
  return useStore(jobsStore, selector);
}
