import {
  ArchiveRestore,
  Bell,
  Folder,
  HardDrive,
  History,
  LayoutDashboard,
  Settings,
  type LucideIcon,
} from 'lucide-react';
import { useId } from 'react';
import { Link, Tooltip, TooltipTrigger } from 'react-aria-components';

import type { Page } from '../../../src-main/contract/model.ts';
import { alertsSelectors, useAlertsStore } from '../stores/alerts/index.ts';
import { hrefOf, routerSelectors, useRouterStore } from '../stores/router/index.ts';
import { useMediaQuery } from '../ui/useMediaQuery.ts';
import { PAGE_LABEL } from '../ui/words.ts';

const ITEMS: readonly { page: Page; icon: LucideIcon }[] = [
  { page: 'overview', icon: LayoutDashboard },
  { page: 'restore', icon: ArchiveRestore },
  { page: 'sources', icon: Folder },
  { page: 'snapshots', icon: History },
  { page: 'targets', icon: HardDrive },
  { page: 'alerts', icon: Bell },
  { page: 'settings', icon: Settings },
];

/** below this width the navigation shows its icons only (names stay as accessible names and tooltips) */
export const COLLAPSE_QUERY = '(max-width: 60rem)';

/** The main navigation: one link per page, named exactly after it; the current one is `aria-current`. */
export function Nav() {
  const current = useRouterStore(routerSelectors.page);
  const collapsed = useMediaQuery(COLLAPSE_QUERY);
  const openAlerts = useAlertsStore(alertsSelectors.activeCount);
  const countId = useId();
  return (
    <nav className="nav" aria-label="Main">
      <ul className="nav__list">
        {ITEMS.map(({ page, icon: Icon }) => {
          const label = PAGE_LABEL[page];
          const count = page === 'alerts' && openAlerts > 0 ? openAlerts : undefined;
          const link = (
            <Link
              href={hrefOf(page)}
              className="nav__link"
              aria-current={current === page ? 'page' : undefined}
              aria-describedby={count !== undefined ? countId : undefined}
              data-page={page}
            >
              <Icon aria-hidden="true" size={20} className="nav__icon" />
              <span className="nav__label">{label}</span>
            </Link>
          );
          // the count sits over the link but outside it: the link's name stays exactly the page's name, and
          // the count is its description ("Alerts", "2 open alerts")
          const badge =
            count !== undefined ? (
              <>
                <span className="nav__count" aria-hidden="true">
                  {count}
                </span>
                <span id={countId} className="visually-hidden">
                  {count} open {count === 1 ? 'alert' : 'alerts'}
                </span>
              </>
            ) : null;
          return (
            <li key={page} className="nav__item">
              {badge}
              {collapsed ? (
                <TooltipTrigger delay={200}>
                  {link}
                  <Tooltip className="tooltip" placement="end" offset={8}>
                    {label}
                  </Tooltip>
                </TooltipTrigger>
              ) : (
                link
              )}
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
