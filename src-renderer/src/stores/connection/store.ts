import { createStore, type StoreApi } from 'zustand/vanilla';

import type { LinkSignal } from '../../api/link.ts';

/**
 * Is the service answering? `lost` as soon as the event socket drops or a call cannot reach it, and until
 * the socket is open again (the transport reconnects by itself). The whole app greys out its status while
 * lost: nothing green is shown from data that may be stale.
 */
export type LinkStatus = 'starting' | 'online' | 'lost';

export interface ConnectionState {
  status: LinkStatus;
  /** when the link was lost (ms since the epoch), while lost */
  lostAt: number | undefined;
  /** the event socket dropped and waits to reconnect */
  socketDown: boolean;
  /** the last call did not reach the service */
  callFailed: boolean;
  /** how many times the link came back: stores reload on each */
  recoveries: number;
}

export const initialState: ConnectionState = {
  status: 'starting',
  lostAt: undefined,
  socketDown: false,
  callFailed: false,
  recoveries: 0,
};

export interface ConnectionActions {
  apply(signal: LinkSignal): void;
}

export type ConnectionStore = ConnectionState & ConnectionActions;

export const connectionSelectors = {
  status: (s: ConnectionStore) => s.status,
  isLost: (s: ConnectionStore) => s.status === 'lost',
  lostAt: (s: ConnectionStore) => s.lostAt,
  recoveries: (s: ConnectionStore) => s.recoveries,
};

export function createConnectionStore(now: () => number = Date.now): StoreApi<ConnectionStore> {
  return createStore<ConnectionStore>()((set, get) => ({
    ...initialState,
    apply(signal) {
      const s = get();
      let { socketDown, callFailed } = s;
      let heard = false;
      if (signal.kind === 'socket') {
        if (signal.state === 'open') {
          socketDown = false;
          callFailed = false;
          heard = true;
        } else if (signal.state === 'waiting') socketDown = true;
        else if (signal.state === 'offline') socketDown = false;
      } else {
        callFailed = !signal.reached;
        heard = signal.reached;
      }
      const down = socketDown || callFailed;
      const status: LinkStatus = down ? 'lost' : heard || s.status === 'online' ? 'online' : s.status;
      const recovered = s.status === 'lost' && status === 'online';
      set({
        socketDown,
        callFailed,
        status,
        lostAt: status === 'lost' ? (s.lostAt ?? now()) : undefined,
        recoveries: recovered ? s.recoveries + 1 : s.recoveries,
      });
    },
  }));
}
