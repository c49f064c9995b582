import { useStore } from 'zustand';

import { getClient } from '../../api/index.ts';
import { createJobsStore, type JobsStore } from './store.ts';

export { jobsSelectors, isActive, isFinal } from './store.ts';
export type { JobsStore, JobView } from './store.ts';

export const jobsStore = createJobsStore(getClient);

export function useJobsStore<T>(selector: (state: JobsStore) => T): T {
  return useStore(jobsStore, selector);
}
