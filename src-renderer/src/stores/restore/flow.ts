import { createStore, type StoreApi } from 'zustand/vanilla';

import type { EventOf, ResponseOf } from '../../../../src-main/contract/ipc.ts';
import type {
  ConflictPolicy,
  JobProgress,
  JobState,
  RestoreDestination,
  RestoreSummary,
} from '../../../../src-main/contract/model.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import type { BulwarkClient } from '../../api/client.ts';

export type RestorePlan = ResponseOf<'bulwark:restore.plan'>;

/** What is to be restored: files and folders of one snapshot ('' = all of it). */
export interface RestoreRequest {
  sourceId: string;
  snapshotId: string;
  paths: readonly string[];
  /** for the dialog's title: "3 files", "Invoices", "everything in Office" */
  label: string;
  /** when the snapshot was taken (ISO), for the dialog */
  time?: string;
}

/**
 * The restore dialog, step by step: where to (the original place or another folder) → the plan
 * (`restore.plan`: what will be created, what is already identical, what conflicts) and what to do with
 * conflicts → `restore.start` → progress (`job.progress`, phase 'restoring') with Cancel → the summary
 * (the job's `restore` field, read from `jobs.list` once `job.state` says it finished). Nothing is written
 * before the person saw the plan and pressed Restore.
 */
export type FlowStep = 'closed' | 'destination' | 'planning' | 'review' | 'starting' | 'running' | 'done';

export interface FlowState {
  step: FlowStep;
  /** the dialog was put away while the job runs (the Restore page offers to show it again) */
  hidden: boolean;
  request: RestoreRequest | undefined;
  destination: RestoreDestination;
  plan: RestorePlan | undefined;
  policy: ConflictPolicy;
  jobId: string | undefined;
  jobState: JobState | undefined;
  progress: JobProgress | undefined;
  summary: RestoreSummary | undefined;
  /** the last failure (planning, starting, the job itself) */
  error: ResultError | undefined;
}

export const initialFlowState: FlowState = {
  step: 'closed',
  hidden: false,
  request: undefined,
  destination: { kind: 'original' },
  plan: undefined,
  policy: 'keep-both',
  jobId: undefined,
  jobState: undefined,
  progress: undefined,
  summary: undefined,
  error: undefined,
};

export interface FlowActions {
  begin(request: RestoreRequest): void;
  setDestination(destination: RestoreDestination): void;
  /** asks the service what restoring would do */
  makePlan(): Promise<void>;
  setPolicy(policy: ConflictPolicy): void;
  /** back to choosing the destination */
  back(): void;
  start(): Promise<void>;
  cancel(): Promise<void>;
  /** hides the dialog while the job goes on */
  hide(): void;
  show(): void;
  close(): void;
  /** events for this flow's job: written by the event subscriber */
  applyProgress(progress: JobProgress): void;
  applyState(event: EventOf<'bulwark:job.state'>): void;
}

export type FlowStore = FlowState & FlowActions;

const FINAL: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'canceled', 'interrupted']);

export const flowSelectors = {
  step: (s: FlowStore) => s.step,
  isOpen: (s: FlowStore) => s.step !== 'closed' && !s.hidden,
  hidden: (s: FlowStore) => s.hidden,
  request: (s: FlowStore) => s.request,
  destination: (s: FlowStore) => s.destination,
  plan: (s: FlowStore) => s.plan,
  policy: (s: FlowStore) => s.policy,
  progress: (s: FlowStore) => s.progress,
  summary: (s: FlowStore) => s.summary,
  error: (s: FlowStore) => s.error,
  jobState: (s: FlowStore) => s.jobState,
  /** the plan has files that exist with other content, so the policy matters */
  hasConflicts: (s: FlowStore) => (s.plan?.totals.conflicts ?? 0) > 0,
  /** the destination is complete enough to plan */
  canPlan: (s: FlowStore) =>
    s.request !== undefined && (s.destination.kind === 'original' || s.destination.path.trim() !== ''),
};

export function createFlowStore(getClient: () => BulwarkClient): StoreApi<FlowStore> {
  let generation = 0;
  /**
   * Jobs that finished while restore.start was on its way: a small restore is done before its answer
   * arrives, and its job.state event (sent at once on the event socket) came when the job's id was not
   * known here yet. Kept until that answer, then looked up.
   */
  let finishedEarly = new Map<string, EventOf<'bulwark:job.state'>>();
  return createStore<FlowStore>()((set, get) => {
    async function fetchSummary(jobId: string, mine: number): Promise<void> {
      const result = await getClient().call('bulwark:jobs.list', { historyLimit: 0 });
      if (mine !== generation || get().jobId !== jobId) return;
      const job = result.ok ? result.value.jobs.find((j) => j.id === jobId) : undefined;
      if (job?.restore) set({ summary: job.restore });
    }

    return {
      ...initialFlowState,

      begin(request) {
        generation++;
        set({ ...initialFlowState, step: 'destination', request });
      },

      setDestination(destination) {
        set({ destination, plan: undefined, error: undefined });
      },

      async makePlan() {
        const { request, destination } = get();
        if (!flowSelectors.canPlan(get()) || !request) return;
        const mine = ++generation;
        set({ step: 'planning', error: undefined, plan: undefined });
        const result = await getClient().call('bulwark:restore.plan', {
          sourceId: request.sourceId,
          snapshotId: request.snapshotId,
          paths: [...request.paths],
          destination:
            destination.kind === 'folder' ? { kind: 'folder', path: destination.path.trim() } : destination,
        });
        if (mine !== generation) return;
        if (result.ok) set({ step: 'review', plan: result.value });
        else set({ step: 'destination', error: result.error });
      },

      setPolicy(policy) {
        set({ policy });
      },

      back() {
        generation++;
        set({ step: 'destination', plan: undefined, error: undefined });
      },

      async start() {
        const { plan, policy } = get();
        if (!plan) return;
        const mine = ++generation;
        finishedEarly = new Map();
        set({ step: 'starting', error: undefined });
        const result = await getClient().call('bulwark:restore.start', {
          planId: plan.planId,
          onConflict: policy,
        });
        if (mine !== generation) return;
        if (!result.ok) {
          set({ step: 'review', error: result.error });
          return;
        }
        const job = result.value.job;
        const early = finishedEarly.get(job.id);
        finishedEarly = new Map();
        if (early && !FINAL.has(job.state)) {
          set({ jobId: job.id, step: 'running', jobState: job.state, progress: job.progress });
          get().applyState(early);
          return;
        }
        set({
          step: FINAL.has(job.state) ? 'done' : 'running',
          jobId: job.id,
          jobState: job.state,
          progress: job.progress,
          summary: job.restore,
          error: job.error,
        });
        if (FINAL.has(job.state) && !job.restore) await fetchSummary(job.id, mine);
      },

      async cancel() {
        const { jobId } = get();
        if (jobId === undefined) return;
        set({ jobState: 'canceling' });
        const result = await getClient().call('bulwark:jobs.cancel', { jobId });
        if (!result.ok) set({ error: result.error });
      },

      hide() {
        set({ hidden: true });
      },

      show() {
        set({ hidden: false });
      },

      close() {
        generation++;
        set(initialFlowState);
      },

      applyProgress(progress) {
        const s = get();
        if (s.jobId !== progress.jobId || s.step !== 'running') return;
        set({ progress });
      },

      applyState(event) {
        const s = get();
        if (s.step === 'starting' && s.jobId === undefined && FINAL.has(event.state))
          finishedEarly.set(event.jobId, event);
        if (s.jobId !== event.jobId) return;
        if (!FINAL.has(event.state)) {
          set({ jobState: event.state });
          return;
        }
        set({ step: 'done', jobState: event.state, error: event.error });
        void fetchSummary(event.jobId, generation);
      },
    };
  });
}
