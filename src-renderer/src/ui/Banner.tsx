import type { ReactNode } from 'react';

import { TONE_ICON, type Tone } from './StatusBadge.tsx';

/**
 * A message across the page or a section. `urgent` banners are `role="alert"` (announced at once: the
 * connection is lost); the others are plain regions, announced only when their text is a live region's.
 */
export function Banner({
  tone,
  title,
  children,
  actions,
  urgent,
  icon,
  className,
}: {
  tone: Tone;
  title: string;
  children?: ReactNode;
  actions?: ReactNode;
  urgent?: boolean;
  icon?: typeof TONE_ICON.info;
  className?: string;
}) {
  const Icon = icon ?? TONE_ICON[tone];
  return (
    <div className={`banner banner--${tone} ${className ?? ''}`} role={urgent ? 'alert' : undefined}>
      <Icon aria-hidden="true" size={20} className="banner__icon" />
      <div className="banner__body">
        <p className="banner__title">{title}</p>
        {children ? <div className="banner__text">{children}</div> : null}
      </div>
      {actions ? <div className="banner__actions">{actions}</div> : null}
    </div>
  );
}
