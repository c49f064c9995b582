import { useStore } from 'zustand';
import { createStore } from 'zustand/vanilla';

/**
 * "Now", shared by every relative time on the page ("4 minutes ago") and advanced every 15 seconds, so
 * they stay current without one timer per component.
 */
export interface ClockStore {
  now: number;
  tick(): void;
}

export const TICK_MS = 15_000;

export const clockStore = createStore<ClockStore>()((set) => ({
  now: Date.now(),
  tick: () => set({ now: Date.now() }),
}));

export function startClock(): () => void {
  const handle = setInterval(() => clockStore.getState().tick(), TICK_MS);
  return () => clearInterval(handle);
}

export function useNow(): number {
  return useStore(clockStore, (s) => s.now);
}
