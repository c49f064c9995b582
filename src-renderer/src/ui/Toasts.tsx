import { X } from 'lucide-react';

import { notifySelectors, notifyStore, useNotifyStore } from '../stores/notify/index.ts';
import { IconButton } from './Button.tsx';
import { TONE_ICON } from './StatusBadge.tsx';

/**
 * Toasts, bottom right, in a polite live region (each new one is read once), plus the invisible polite
 * announcer for things that are not shown as a toast (a new alert, a job's milestones).
 */
export function Toasts() {
  const toasts = useNotifyStore(notifySelectors.toasts);
  return (
    <div className="toasts" role="region" aria-label="Notifications">
      <ol className="toasts__list" aria-live="polite" aria-relevant="additions">
        {toasts.map((t) => {
          const Icon = TONE_ICON[t.tone];
          return (
            <li key={t.id} className={`toast toast--${t.tone}`}>
              <Icon aria-hidden="true" size={18} className="toast__icon" />
              <span className="toast__text">{t.text}</span>
              <IconButton
                icon={X}
                label="Dismiss notification"
                size="sm"
                onPress={() => notifyStore.getState().dismiss(t.id)}
              />
            </li>
          );
        })}
      </ol>
    </div>
  );
}

export function Announcer() {
  const announcement = useNotifyStore(notifySelectors.announcement);
  return (
    <div className="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="announcer">
      {announcement ? <span key={announcement.seq}>{announcement.text}</span> : null}
    </div>
  );
}
