import { createStore, type StoreApi } from 'zustand/vanilla';

import type { RequestOf } from '../../../../src-main/contract/ipc.ts';
import type { NotificationSettings } from '../../../../src-main/contract/oversight.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import type { BulwarkClient } from '../../api/client.ts';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';
export type TestChannel = 'email' | 'webhook' | 'ping';
export type NotificationsUpdate = RequestOf<'bulwark:notifications.update'>;

export type TestResult = { ok: true; to: string; at: string } | { ok: false; error: ResultError };

export interface NotificationsState {
  status: LoadStatus;
  settings: NotificationSettings | undefined;
  error: ResultError | undefined;
  saving: boolean;
  saveError: ResultError | undefined;
  /** which part of the page saved last (its error is shown there) */
  saveOrigin: string | undefined;
  /** the test on its way, if any */
  testing: TestChannel | undefined;
  tests: Partial<Record<TestChannel, TestResult>>;
}

export const initialState: NotificationsState = {
  status: 'idle',
  settings: undefined,
  error: undefined,
  saving: false,
  saveError: undefined,
  saveOrigin: undefined,
  testing: undefined,
  tests: {},
};

export interface NotificationsActions {
  load(): Promise<void>;
  /** saves; resolves to whether it worked (the error is in saveError) */
  save(update: NotificationsUpdate, origin?: string): Promise<boolean>;
  /** saves the form first (a test uses the saved settings), then sends a test message */
  test(channel: TestChannel, update: NotificationsUpdate): Promise<void>;
  reset(): void;
}

export type NotificationsStore = NotificationsState & NotificationsActions;

export const notificationsSelectors = {
  status: (s: NotificationsStore) => s.status,
  settings: (s: NotificationsStore) => s.settings,
  error: (s: NotificationsStore) => s.error,
  saving: (s: NotificationsStore) => s.saving,
  saveError: (s: NotificationsStore) => s.saveError,
  saveOrigin: (s: NotificationsStore) => s.saveOrigin,
  testing: (s: NotificationsStore) => s.testing,
  test: (channel: TestChannel) => (s: NotificationsStore) => s.tests[channel],
};

export function createNotificationsStore(getClient: () => BulwarkClient): StoreApi<NotificationsStore> {
  let generation = 0;
  return createStore<NotificationsStore>()((set, get) => ({
    ...initialState,

    async load() {
      const mine = ++generation;
      set({ status: get().settings ? 'ready' : 'loading', error: undefined });
      const result = await getClient().call('bulwark:notifications.get', {});
      if (mine !== generation) return;
      if (result.ok) set({ status: 'ready', settings: result.value });
      else set({ status: 'error', error: result.error });
    },

    async save(update, origin) {
      set({ saving: true, saveError: undefined, saveOrigin: origin });
      const result = await getClient().call('bulwark:notifications.update', update);
      generation++;
      if (result.ok) {
        set({ saving: false, settings: result.value, status: 'ready' });
        return true;
      }
      set({ saving: false, saveError: result.error });
      return false;
    },

    async test(channel, update) {
      set((s) => ({ testing: channel, tests: { ...s.tests, [channel]: undefined } }));
      const saved = await get().save(update, channel === 'ping' ? 'webhook' : channel);
      if (!saved) {
        set({ testing: undefined });
        return;
      }
      const result = await getClient().call('bulwark:notifications.test', { channel });
      set((s) => ({
        testing: undefined,
        tests: {
          ...s.tests,
          [channel]: result.ok
            ? { ok: true, to: result.value.to, at: result.value.sentAt }
            : { ok: false, error: result.error },
        },
      }));
      await get().load(); // the channel's last delivery and error
    },

    reset() {
      generation++;
      set(initialState);
    },
  }));
}
