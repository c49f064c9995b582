import {
  CircleHelp,
  LoaderCircle,
  ShieldAlert,
  ShieldCheck,
  ShieldX,
  WifiOff,
  type LucideIcon,
} from 'lucide-react';

import type { ProtectionState } from '../../../src-main/contract/model.ts';
import { connectionSelectors, useConnectionStore } from '../stores/connection/index.ts';
import { serviceSelectors, serviceStore, useServiceStore } from '../stores/service/index.ts';
import { Button } from '../ui/Button.tsx';
import { RelativeTime } from '../ui/RelativeTime.tsx';
import { PROTECTION_LABEL } from '../ui/words.ts';

export type ShownState = ProtectionState | 'unknown' | 'checking';

const LOOK: Record<ShownState, { icon: LucideIcon; tone: string }> = {
  protected: { icon: ShieldCheck, tone: 'success' },
  'at-risk': { icon: ShieldAlert, tone: 'warning' },
  'not-protected': { icon: ShieldX, tone: 'danger' },
  unknown: { icon: CircleHelp, tone: 'neutral' },
  checking: { icon: LoaderCircle, tone: 'neutral' },
};

/**
 * The answer at the top of every page, as the main side decided it (`service.status.overall`): its words,
 * and the time of the last backup kept current here. Green only when the main side said "protected" and
 * the service is answering now; grey while the link is lost or the answer is missing.
 */
export function StatusBar() {
  const overall = useServiceStore(serviceSelectors.overall);
  const status = useServiceStore(serviceSelectors.status);
  const lost = useConnectionStore(connectionSelectors.isLost);

  let shown: ShownState;
  let headline: string;
  if (lost) {
    shown = 'unknown';
    headline = 'Protection status unknown: the service is not answering';
  } else if (overall) {
    shown = overall.state;
    headline = overall.headline;
  } else if (status === 'error') {
    shown = 'unknown';
    headline = 'Protection status unavailable';
  } else {
    shown = 'checking';
    headline = 'Checking protection…';
  }
  const { icon: Icon, tone } = LOOK[shown];
  const spoken =
    shown === 'unknown' || shown === 'checking' ? headline : `${PROTECTION_LABEL[shown]}. ${headline}`;

  return (
    <section className={`statusbar statusbar--${tone}`} aria-label="Protection status" data-state={shown}>
      <Icon
        aria-hidden="true"
        size={22}
        className={`statusbar__icon${shown === 'checking' ? ' spin' : ''}`}
      />
      <p className="statusbar__text">
        <span className="statusbar__headline">{headline}</span>
        {!lost && overall?.lastBackupAt ? (
          <span className="statusbar__when">
            {' — '}
            <RelativeTime iso={overall.lastBackupAt} prefix="last backup " />
          </span>
        ) : null}
      </p>
      {!lost && status === 'error' && !overall ? (
        <Button size="sm" onPress={() => void serviceStore.getState().load()}>
          Try again
        </Button>
      ) : null}
      {/* the state and headline, announced politely when they change (not every minute of "ago") */}
      <span className="visually-hidden" aria-live="polite" aria-atomic="true">
        {spoken}
      </span>
    </section>
  );
}

/** Shown at once when the browser loses the service; the status above turns grey with it. */
export function ConnectionBanner() {
  const lost = useConnectionStore(connectionSelectors.isLost);
  if (!lost) return null;
  return (
    <div className="banner banner--neutral banner--connection" role="alert" data-testid="connection-lost">
      <WifiOff aria-hidden="true" size={20} className="banner__icon" />
      <div className="banner__body">
        <p className="banner__title">Connection lost</p>
        <p className="banner__text">
          Bulwark’s service is not answering. What you see may be out of date; it reconnects by itself.
        </p>
      </div>
    </div>
  );
}
