import { ShieldCheck } from 'lucide-react';
import { useRef } from 'react';
import { Button as AriaButton } from 'react-aria-components';

import { connectionSelectors, useConnectionStore } from '../stores/connection/index.ts';
import { routerSelectors, useRouterStore } from '../stores/router/index.ts';
import { AlertsPage } from '../pages/alerts/AlertsPage.tsx';
import { OverviewPage } from '../pages/overview/OverviewPage.tsx';
import { RestoreDialog } from '../pages/restore/RestoreDialog.tsx';
import { RestorePage } from '../pages/restore/RestorePage.tsx';
import { SettingsPage } from '../pages/settings/SettingsPage.tsx';
import { SnapshotsPage } from '../pages/snapshots/SnapshotsPage.tsx';
import { SourcesPage } from '../pages/sources/SourcesPage.tsx';
import { TargetsPage } from '../pages/targets/TargetsPage.tsx';
import { Announcer, Toasts } from '../ui/Toasts.tsx';
import { Nav } from './Nav.tsx';
import { ConnectionBanner, StatusBar } from './StatusBar.tsx';

function CurrentPage() {
  const page = useRouterStore(routerSelectors.page);
  switch (page) {
    case 'overview':
      return <OverviewPage />;
    case 'restore':
      return <RestorePage />;
    case 'sources':
      return <SourcesPage />;
    case 'snapshots':
      return <SnapshotsPage />;
    case 'targets':
      return <TargetsPage />;
    case 'alerts':
      return <AlertsPage />;
    case 'settings':
      return <SettingsPage />;
  }
}

/** The frame of every page: navigation on the left, the protection status on top, the page below. */
export function Shell() {
  const main = useRef<HTMLElement>(null);
  // while the service is not answering nothing on the page may look green (data-stale greys the states)
  const lost = useConnectionStore(connectionSelectors.isLost);
  return (
    <div className="app" data-stale={lost ? 'true' : undefined}>
      <AriaButton className="skip-link" onPress={() => main.current?.focus()}>
        Skip to the page
      </AriaButton>
      <aside className="sidebar">
        <div className="sidebar__inner">
          <div className="brand">
            <ShieldCheck aria-hidden="true" size={26} className="brand__mark" />
            <span className="brand__name">Bulwark</span>
          </div>
          <Nav />
        </div>
      </aside>
      <div className="app__column">
        <header className="topbar">
          <StatusBar />
        </header>
        <ConnectionBanner />
        <main className="main" ref={main} tabIndex={-1} id="main">
          <CurrentPage />
        </main>
      </div>
      <RestoreDialog />
      <Toasts />
      <Announcer />
    </div>
  );
}
