import { createStore, type StoreApi } from 'zustand/vanilla';

import type { EventOf } from '../../../../src-main/contract/ipc.ts';
import type {
  Job,
  JobKind,
  JobProgress,
  JobReason,
  JobState,
  RunSummary,
} from '../../../../src-main/contract/model.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import type { BulwarkClient } from '../../api/client.ts';

export interface JobView {
  jobId: string;
  kind: JobKind | undefined;
  state: JobState;
  progress: JobProgress | undefined;
  error: ResultError | undefined;
  sourceId: string | undefined;
  reason: JobReason | undefined;
  /** changed paths the watcher reported (from jobs.list) */
  changes: number | undefined;
}

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

export interface JobsState {
  byId: Readonly<Record<string, JobView>>;
  /** job ids in the order they were first seen */
  order: readonly string[];
  status: LoadStatus;
  error: ResultError | undefined;
  /** pauseAll: no job starts until resumeAll */
  paused: boolean;
  /** recorded runs, newest first */
  history: readonly RunSummary[];
  /** a pause, resume or cancel on its way */
  pending: boolean;
  /** the last failed pause, resume or cancel */
  actionError: ResultError | undefined;
}

export const initialState: JobsState = {
  byId: {},
  order: [],
  status: 'idle',
  error: undefined,
  paused: false,
  history: [],
  pending: false,
  actionError: undefined,
};

export interface JobsActions {
  /** jobs.list: the jobs the service knows, pause state and the recorded runs */
  load(): Promise<void>;
  cancel(jobId: string): Promise<void>;
  pauseAll(): Promise<void>;
  resumeAll(): Promise<void>;
  /** events: written only by the event subscriber (stores/events.ts) */
  applyProgress(progress: JobProgress): void;
  applyState(event: EventOf<'bulwark:job.state'>): void;
  /** forgets finished jobs */
  clearFinished(): void;
}

export type JobsStore = JobsState & JobsActions;

/** How many recorded runs the history shows. */
export const HISTORY_LIMIT = 20;

const FINAL: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'canceled', 'interrupted']);
export const isFinal = (state: JobState): boolean => FINAL.has(state);
export const isActive = (state: JobState): boolean => state === 'running' || state === 'canceling';

// Selectors return state fields or primitives, never a new array per call.
export const jobsSelectors = {
  order: (s: JobsStore) => s.order,
  byId: (s: JobsStore) => s.byId,
  job: (jobId: string) => (s: JobsStore) => s.byId[jobId],
  activeCount: (s: JobsStore) => Object.values(s.byId).filter((job) => !isFinal(job.state)).length,
  runningCount: (s: JobsStore) => Object.values(s.byId).filter((job) => isActive(job.state)).length,
  paused: (s: JobsStore) => s.paused,
  history: (s: JobsStore) => s.history,
  status: (s: JobsStore) => s.status,
  error: (s: JobsStore) => s.error,
  pending: (s: JobsStore) => s.pending,
  actionError: (s: JobsStore) => s.actionError,
  /** the progress of a source's running job, if any */
  progressOfSource: (sourceId: string) => (s: JobsStore) => {
    for (const id of s.order) {
      const job = s.byId[id];
      if (job?.sourceId === sourceId && isActive(job.state)) return job.progress;
    }
    return undefined;
  },
};

function upsert(s: JobsState, job: JobView): Partial<JobsState> {
  const known = job.jobId in s.byId;
  return { byId: { ...s.byId, [job.jobId]: job }, order: known ? s.order : [...s.order, job.jobId] };
}

function fromJob(job: Job): JobView {
  return {
    jobId: job.id,
    kind: job.kind,
    state: job.state,
    progress: job.progress,
    error: job.error,
    sourceId: job.sourceId,
    reason: job.reason,
    changes: job.changes,
  };
}

/** The jobs of the service, fed by jobs.list and by the event stream. */
export function createJobsStore(getClient: () => BulwarkClient): StoreApi<JobsStore> {
  let generation = 0;
  return createStore<JobsStore>()((set) => {
    async function control(run: () => Promise<ResultError | undefined>) {
      set({ pending: true, actionError: undefined });
      const error = await run();
      set({ pending: false, actionError: error });
    }

    return {
      ...initialState,

      async load() {
        const mine = ++generation;
        set({ status: 'loading', error: undefined });
        const result = await getClient().call('bulwark:jobs.list', { historyLimit: HISTORY_LIMIT });
        if (mine !== generation) return;
        if (!result.ok) {
          set({ status: 'error', error: result.error });
          return;
        }
        set((s) => {
          let next: JobsState = { ...s };
          // the list is oldest-known first in `order`; events that arrived meanwhile are newer: a job the
          // store already knows as finished stays finished
          for (const job of [...result.value.jobs].reverse()) {
            const known = next.byId[job.id];
            if (known && isFinal(known.state) && !isFinal(job.state)) continue;
            next = {
              ...next,
              ...upsert(next, { ...fromJob(job), progress: job.progress ?? known?.progress }),
            };
          }
          return { ...next, status: 'ready', paused: result.value.paused, history: result.value.history };
        });
      },

      async cancel(jobId) {
        await control(async () => {
          const result = await getClient().call('bulwark:jobs.cancel', { jobId });
          if (!result.ok) return result.error;
          const job = result.value.job;
          set((s) => {
            const known = s.byId[job.id];
            if (known && isFinal(known.state)) return s;
            return upsert(s, { ...fromJob(job), progress: known?.progress });
          });
          return undefined;
        });
      },

      async pauseAll() {
        await control(async () => {
          const result = await getClient().call('bulwark:jobs.pauseAll', {});
          if (!result.ok) return result.error;
          set({ paused: result.value.paused });
          return undefined;
        });
      },

      async resumeAll() {
        await control(async () => {
          const result = await getClient().call('bulwark:jobs.resumeAll', {});
          if (!result.ok) return result.error;
          set({ paused: result.value.paused });
          return undefined;
        });
      },

      applyProgress(progress) {
        set((s) => {
          const job = s.byId[progress.jobId];
          // progress is throttled and may arrive after the final state: a finished job stays finished
          if (job && isFinal(job.state)) return s;
          return upsert(s, {
            jobId: progress.jobId,
            kind: job?.kind,
            state: job?.state === 'canceling' ? 'canceling' : 'running',
            progress,
            error: undefined,
            sourceId: progress.sourceId ?? job?.sourceId,
            reason: job?.reason,
            changes: job?.changes,
          });
        });
      },

      applyState(event) {
        set((s) => {
          const job = s.byId[event.jobId];
          return upsert(s, {
            jobId: event.jobId,
            kind: event.kind,
            state: event.state,
            progress: job?.progress,
            error: event.error,
            sourceId: event.sourceId ?? job?.sourceId,
            reason: event.reason ?? job?.reason,
            changes: job?.changes,
          });
        });
      },

      clearFinished() {
        set((s) => {
          const byId: Record<string, JobView> = {};
          for (const id of s.order) {
            const job = s.byId[id];
            if (job && !isFinal(job.state)) byId[id] = job;
          }
          return { byId, order: s.order.filter((id) => id in byId) };
        });
      },
    };
  });
}
