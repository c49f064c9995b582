import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { z } from 'zod';

import { getClient } from './api/index.ts';
import { App } from './App.tsx';
import { alertsStore } from './stores/alerts/index.ts';
import { appStore } from './stores/app/index.ts';
import { connectEvents } from './stores/events.ts';
import { jobsStore } from './stores/jobs/index.ts';
import { repositoryStore } from './stores/repository/index.ts';
import { snapshotsStore } from './stores/snapshots/index.ts';
import { sourcesStore } from './stores/sources/index.ts';
import './ui/styles.css';

// The CSP has no 'unsafe-eval': tell zod not to probe `new Function` (the probe is caught, but Chromium
// still reports it as a CSP violation).
z.config({ jitless: true });

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

connectEvents(getClient(), {
  jobs: jobsStore,
  sources: sourcesStore,
  alerts: alertsStore,
  snapshots: snapshotsStore,
  repository: repositoryStore,
});
void appStore.getState().load();

createRoot(container).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
