import { createStore, type StoreApi } from 'zustand/vanilla';

import type { Alert } from '../../../../src-main/contract/model.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import type { BulwarkClient } from '../../api/client.ts';
import { ChangesSinceLoad } from '../changes-since-load.ts';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

export interface AlertsState {
  status: LoadStatus;
  /** open and cleared alerts, newest first */
  items: readonly Alert[];
  error: ResultError | undefined;
  /** alerts whose acknowledge is on its way */
  acknowledging: Readonly<Record<number, true>>;
  actionError: ResultError | undefined;
}

export const initialState: AlertsState = {
  status: 'idle',
  items: [],
  error: undefined,
  acknowledging: {},
  actionError: undefined,
};

export interface AlertsActions {
  load(): Promise<void>;
  acknowledge(alertId: number): Promise<void>;
  /** alert.raised / alert.cleared / alert.acknowledged: written by the event subscriber */
  applyAlert(alert: Alert): void;
  reset(): void;
}

export type AlertsStore = AlertsState & AlertsActions;

/** How many alerts (open and history) the UI keeps. */
export const ALERTS_LIMIT = 200;

// Selectors return state fields or primitives, never a new array per call.
export const alertsSelectors = {
  status: (s: AlertsStore) => s.status,
  items: (s: AlertsStore) => s.items,
  error: (s: AlertsStore) => s.error,
  activeCount: (s: AlertsStore) => s.items.filter((a) => a.active).length,
  historyCount: (s: AlertsStore) => s.items.filter((a) => !a.active).length,
  /** open alerts nobody acknowledged yet */
  unacknowledgedCount: (s: AlertsStore) => s.items.filter((a) => a.active && !a.acknowledgedAt).length,
  isInitialLoading: (s: AlertsStore) => s.status === 'loading' && s.items.length === 0,
  acknowledging: (alertId: number) => (s: AlertsStore) => s.acknowledging[alertId] === true,
  actionError: (s: AlertsStore) => s.actionError,
};

function upsert(items: readonly Alert[], alert: Alert): Alert[] {
  const rest = items.filter((a) => a.id !== alert.id);
  // ids grow with time: newest first is id descending
  return [...rest, alert].sort((a, b) => b.id - a.id).slice(0, ALERTS_LIMIT);
}

export function createAlertsStore(getClient: () => BulwarkClient): StoreApi<AlertsStore> {
  let generation = 0;
  const sinceLoad = new ChangesSinceLoad<Alert>();
  return createStore<AlertsStore>()((set) => ({
    ...initialState,

    async load() {
      const mine = ++generation;
      sinceLoad.begin();
      set({ status: 'loading', error: undefined });
      const result = await getClient().call('bulwark:alerts.list', { limit: ALERTS_LIMIT });
      if (mine !== generation) return;
      if (result.ok) {
        const listed = [...result.value.alerts].sort((a, b) => b.id - a.id);
        set({ status: 'ready', items: sinceLoad.finish(listed) });
      } else {
        sinceLoad.drop();
        set({ status: 'error', error: result.error });
      }
    },

    async acknowledge(alertId) {
      set((s) => ({ acknowledging: { ...s.acknowledging, [alertId]: true }, actionError: undefined }));
      const result = await getClient().call('bulwark:alerts.acknowledge', { alertId });
      const acknowledged = result.ok ? result.value.alert : undefined;
      if (acknowledged) sinceLoad.record((items) => upsert(items, acknowledged));
      set((s) => {
        const { [alertId]: _done, ...acknowledging } = s.acknowledging;
        return result.ok
          ? { acknowledging, items: upsert(s.items, result.value.alert) }
          : { acknowledging, actionError: result.error };
      });
    },

    applyAlert(alert) {
      sinceLoad.record((items) => upsert(items, alert));
      set((s) => ({ items: upsert(s.items, alert) }));
    },

    reset() {
      generation++;
      sinceLoad.drop();
      set(initialState);
    },
  }));
}
