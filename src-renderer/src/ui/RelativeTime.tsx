import { Focusable, Tooltip, TooltipTrigger } from 'react-aria-components';

import { useNow } from '../stores/clock/index.ts';
import { formatExact, formatRelative } from './format.ts';

/**
 * "4 minutes ago", kept current, with the exact time (to the second) in a tooltip on hover and on keyboard
 * focus; a screen reader hears both.
 */
export function RelativeTime({ iso, prefix }: { iso: string; prefix?: string }) {
  const now = useNow();
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
