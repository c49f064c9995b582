import { getClient, linkMonitor } from './api/index.ts';
import { alertsStore } from './stores/alerts/index.ts';
import { appStore } from './stores/app/index.ts';
import { startClock } from './stores/clock/index.ts';
import { connectionStore } from './stores/connection/index.ts';
import { connectEvents } from './stores/events.ts';
import { jobsStore } from './stores/jobs/index.ts';
import { notifyStore } from './stores/notify/index.ts';
import { flowStore } from './stores/restore/index.ts';
import { routerStore } from './stores/router/index.ts';
import { serviceStore } from './stores/service/index.ts';
import { sourcesStore } from './stores/sources/index.ts';
import { targetsStore } from './stores/targets/index.ts';

/** Everything the pages show, (re)loaded at start and whenever the link to the service comes back. */
export function loadAll(): void {
  void serviceStore.getState().load();
  void sourcesStore.getState().load();
  void jobsStore.getState().load();
  void alertsStore.getState().load();
  void targetsStore.getState().load();
}

/** Wires the stores to the client, the link monitor, the clock and the address bar; then loads. */
export function boot(): void {
  linkMonitor.subscribe((signal) => connectionStore.getState().apply(signal));
  const last = linkMonitor.lastSocketState();
  if (last) connectionStore.getState().apply({ kind: 'socket', state: last });
  connectionStore.subscribe((s, prev) => {
    if (s.recoveries > prev.recoveries) loadAll();
  });

  connectEvents(getClient(), {
    jobs: jobsStore,
    sources: sourcesStore,
    alerts: alertsStore,
    service: serviceStore,
    restore: flowStore,
    onAlertRaised: (text) => notifyStore.getState().announce(`New alert: ${text}`),
  });

  window.addEventListener('hashchange', () => routerStore.getState().syncFromHash(window.location.hash));
  startClock();
  void appStore.getState().load();
  loadAll();
}
