import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { z } from 'zod';

import { getClient } from './api/index.ts';
import { App } from './App.tsx';
import { appStore } from './stores/app/index.ts';
import { connectEvents } from './stores/events.ts';
import { jobsStore } from './stores/jobs/index.ts';
import './ui/styles.css';

// The CSP has no 'unsafe-eval': tell zod not to probe `new Function` (the probe is caught, but Chromium
// still reports it as a CSP violation).
z.config({ jitless: true });

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

connectEvents(getClient(), { jobs: jobsStore });
void appStore.getState().load();

createRoot(container).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
