import { createStore, type StoreApi } from 'zustand/vanilla';

/**
 * Toasts (short confirmations that disappear by themselves: "Backup of Office started") and a polite
 * announcement for screen readers (new alerts, progress milestones) that is not shown on screen.
 */
export type ToastTone = 'success' | 'info' | 'warning' | 'danger';

export interface Toast {
  id: number;
  text: string;
  tone: ToastTone;
}

export interface NotifyState {
  toasts: readonly Toast[];
  /** the latest polite announcement; `seq` changes even when the same words are announced twice */
  announcement: { text: string; seq: number } | undefined;
}

export interface NotifyActions {
  toast(text: string, tone?: ToastTone): number;
  dismiss(id: number): void;
  announce(text: string): void;
}

export type NotifyStore = NotifyState & NotifyActions;

export const notifySelectors = {
  toasts: (s: NotifyStore) => s.toasts,
  announcement: (s: NotifyStore) => s.announcement,
};

/** at most this many toasts at once (the oldest goes) */
export const MAX_TOASTS = 3;

export interface NotifyOptions {
  /** how long a toast stays (default 6 s) */
  toastMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
}

export function createNotifyStore(options: NotifyOptions = {}): StoreApi<NotifyStore> {
  const toastMs = options.toastMs ?? 6000;
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  let nextId = 1;
  let seq = 0;
  return createStore<NotifyStore>()((set, get) => ({
    toasts: [],
    announcement: undefined,
    toast(text, tone = 'success') {
      const id = nextId++;
      set((s) => ({ toasts: [...s.toasts, { id, text, tone }].slice(-MAX_TOASTS) }));
      setTimer(() => get().dismiss(id), toastMs);
      return id;
    },
    dismiss(id) {
      if (get().toasts.some((t) => t.id === id))
        set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) }));
    },
    announce(text) {
      set({ announcement: { text, seq: ++seq } });
    },
  }));
}
