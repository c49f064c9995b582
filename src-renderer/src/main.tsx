import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { z } from 'zod';

import { App } from './App.tsx';
import { boot } from './boot.ts';
import './stores/theme/index.ts';
import './ui/tokens.css';
import './ui/base.css';
import './ui/components.css';
import './ui/layout.css';
import './ui/pages.css';

// The CSP has no 'unsafe-eval': tell zod not to probe `new Function` (the probe is caught, but Chromium
// still reports it as a CSP violation).
z.config({ jitless: true });

// react-aria's usePress injects a <style id="react-aria-pressable-style"> (touch-action for double-tap zoom)
// unless an element with that id exists; `style-src 'self'` refuses inline <style>, so base.css carries the
// rule and this placeholder tells react-aria it is there.
if (!document.getElementById('react-aria-pressable-style')) {
  const placeholder = document.createElement('meta');
  placeholder.id = 'react-aria-pressable-style';
  document.head.append(placeholder);
}

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

boot();

createRoot(container).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
