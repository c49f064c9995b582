import type { EventName, EventOf } from '../contract/ipc.ts';

/** Receives contract events from the main side (the service core, a job runner...). */
export type ContractEventListener = <E extends EventName>(event: E, payload: EventOf<E>) => void;

/** Where a transport gets the events it pushes: it subscribes once and unsubscribes when it closes. */
export interface EventSource {
  subscribe(listener: ContractEventListener): () => void;
}

/** A minimal in-process event hub: `emit` reaches every current subscriber. */
export interface EventHub extends EventSource {
  emit<E extends EventName>(event: E, payload: EventOf<E>): void;
}

export function createEventHub(): EventHub {
  const listeners = new Set<ContractEventListener>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    emit(event, payload) {
      for (const listener of [...listeners]) listener(event, payload);
    },
  };
}
