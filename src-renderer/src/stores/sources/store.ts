import { createStore, type StoreApi } from 'zustand/vanilla';

import { channels, type EventOf, type RequestOf } from '../../../../src-main/contract/ipc.ts';
import type { SourceStatus } from '../../../../src-main/contract/model.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import { checkRequest } from '../../../../src-main/contract/validation.ts';
import type { BulwarkClient } from '../../api/client.ts';
import { ChangesSinceLoad, type ListChange } from '../changes-since-load.ts';
import { initialState, type SourceAction, type SourcesState } from './initialState.ts';

export interface SourcesActions {
  /** (Re)loads the list. A newer load or a reset makes the answer of an older one be ignored. */
  load(): Promise<void>;
  /** Adds a folder source; resolves true when the service took it (the form can close). */
  add(request: RequestOf<'bulwark:sources.add'>): Promise<boolean>;
  remove(sourceId: string): Promise<void>;
  runNow(sourceId: string): Promise<void>;
  /** Changes a source (name, folders, schedule…); resolves with the error, if any (the form shows it). */
  update(request: RequestOf<'bulwark:sources.update'>): Promise<ResultError | undefined>;
  /** Pauses (false) or resumes (true) the protection of one source. */
  setEnabled(sourceId: string, enabled: boolean): Promise<void>;
  /** `source.changed`: written by the event subscriber (stores/events.ts) */
  applyChanged(event: EventOf<'bulwark:source.changed'>): void;
  clearAddError(): void;
  reset(): void;
}

export type SourcesStore = SourcesState & SourcesActions;

function upsert(items: readonly SourceStatus[], source: SourceStatus): SourceStatus[] {
  const i = items.findIndex((x) => x.id === source.id);
  if (i === -1) return [...items, source];
  const next = [...items];
  next[i] = source;
  return next;
}

function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const { [key]: _dropped, ...rest } = record;
  return rest;
}

/** A request the contract refuses, in the words the service would use (the contract's messages for people). */
function invalid(
  channel: 'bulwark:sources.add' | 'bulwark:sources.update',
  request: unknown,
): ResultError | undefined {
  const check = checkRequest(channels[channel].request, request);
  return check.ok ? undefined : { code: 'INVALID_ARGUMENT', message: check.message };
}

export function createSourcesStore(getClient: () => BulwarkClient): StoreApi<SourcesStore> {
  let generation = 0;
  const sinceLoad = new ChangesSinceLoad<SourceStatus>();
  return createStore<SourcesStore>()((set) => {
    function change(f: ListChange<SourceStatus>): void {
      set((s) => ({ items: f(s.items) }));
      sinceLoad.record(f);
    }

    async function act(sourceId: string, action: SourceAction, run: () => Promise<ResultError | undefined>) {
      set((s) => ({
        busy: { ...s.busy, [sourceId]: action },
        actionErrors: without(s.actionErrors, sourceId),
      }));
      const error = await run();
      set((s) => ({
        busy: without(s.busy, sourceId),
        actionErrors: error ? { ...s.actionErrors, [sourceId]: error } : s.actionErrors,
      }));
    }

    return {
      ...initialState,

      async load() {
        const mine = ++generation;
        sinceLoad.begin();
        set({ status: 'loading', error: undefined });
        const result = await getClient().call('bulwark:sources.list', {});
        if (mine !== generation) return;
        if (result.ok) set({ status: 'ready', items: sinceLoad.finish(result.value.sources) });
        else {
          sinceLoad.drop();
          set({ status: 'error', error: result.error });
        }
      },

      async add(request) {
        const refused = invalid('bulwark:sources.add', request);
        if (refused) {
          set({ adding: 'error', addError: refused });
          return false;
        }
        set({ adding: 'saving', addError: undefined });
        const result = await getClient().call('bulwark:sources.add', request);
        if (!result.ok) {
          set({ adding: 'error', addError: result.error });
          return false;
        }
        const added = result.value.source;
        set({ adding: 'idle' });
        change((items) => upsert(items, added));
        return true;
      },

      async remove(sourceId) {
        await act(sourceId, 'remove', async () => {
          const result = await getClient().call('bulwark:sources.remove', { sourceId });
          if (!result.ok) return result.error;
          change((items) => items.filter((x) => x.id !== sourceId));
          return undefined;
        });
      },

      async runNow(sourceId) {
        await act(sourceId, 'run', async () => {
          const result = await getClient().call('bulwark:jobs.runNow', { sourceId });
          if (!result.ok) return result.error;
          const job = result.value.job;
          // the job shows at once; source.changed brings the rest of the status
          change((items) => items.map((x) => (x.id === sourceId && !x.job ? { ...x, job } : x)));
          return undefined;
        });
      },

      async update(request) {
        const refused = invalid('bulwark:sources.update', request);
        if (refused) return refused;
        let failure: ResultError | undefined;
        await act(request.sourceId, 'update', async () => {
          const result = await getClient().call('bulwark:sources.update', request);
          if (!result.ok) {
            failure = result.error;
            return undefined; // the form shows it, not the row
          }
          const source = result.value.source;
          change((items) => upsert(items, source));
          return undefined;
        });
        return failure;
      },

      async setEnabled(sourceId, enabled) {
        await act(sourceId, enabled ? 'resume' : 'pause', async () => {
          const result = await getClient().call('bulwark:sources.update', { sourceId, enabled });
          if (!result.ok) return result.error;
          const source = result.value.source;
          change((items) => upsert(items, source));
          return undefined;
        });
      },

      applyChanged(event) {
        if (event.removed || !event.source) {
          change((items) => items.filter((x) => x.id !== event.sourceId));
          return;
        }
        const source = event.source;
        change((items) => upsert(items, source));
      },

      clearAddError() {
        set({ adding: 'idle', addError: undefined });
      },

      reset() {
        generation++;
        sinceLoad.drop();
        set(initialState);
      },
    };
  });
}
