import { Focusable, Tooltip, TooltipTrigger } from 'react-aria-components';

import { useNow } from '../stores/clock/index.ts';
import { formatExact, formatRelative } from './format.ts';

/**
 * "4 minutes ago", kept current, with the exact time (to the second) in a tooltip on hover and on keyboard
 * focus; a screen reader hears both.
 */
export function RelativeTime({ iso, prefix }: { iso: string; prefix?: string }) {
  // the shared clock ticks now and then: a time that arrived since its last tick would read as future
  // ("in a few seconds" for a backup that just failed), so a render never uses an older time than now
  const now = Math.max(useNow(), Date.now());
  const exact = formatExact(iso);
  return (
    <TooltipTrigger delay={300}>
      <Focusable>
        <time dateTime={iso} className="reltime" tabIndex={0} data-exact={exact}>
          {prefix}
          {formatRelative(iso, now)}
          <span className="visually-hidden"> ({exact})</span>
        </time>
      </Focusable>
      <Tooltip className="tooltip" offset={6}>
        {exact}
      </Tooltip>
    </TooltipTrigger>
  );
}
