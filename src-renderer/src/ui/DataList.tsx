import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, type ReactNode } from 'react';

/**
 * A long list that renders only the rows in view (plus a few), so 100 000 rows cost a few dozen DOM
 * nodes. Rows are list items with their position (`aria-posinset`/`aria-setsize`), so a screen reader
 * still says "row 5 012 of 100 000". `onRange` reports the rows in view (to load their page).
 */
export function VirtualList({
  count,
  rowHeight,
  renderRow,
  getKey,
  label,
  onRange,
  maxHeight = '24rem',
  overscan = 8,
}: {
  count: number;
  rowHeight: number;
  renderRow: (index: number) => ReactNode;
  getKey?: (index: number) => string | number;
  label: string;
  onRange?: (first: number, last: number) => void;
  /** the list is as tall as its rows, up to this */
  maxHeight?: string;
  overscan?: number;
}) {
  const parentRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => parentRef.current,
    estimateSize: () => rowHeight,
    overscan,
    getItemKey: getKey,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? -1;
  useEffect(() => {
    if (last >= first) onRange?.(first, last);
  }, [first, last, onRange]);

  return (
    <div
      ref={parentRef}
      className="vlist"
      style={{ height: `min(${count * rowHeight + 2}px, ${maxHeight})` }}
      tabIndex={-1}
      data-count={count}
    >
      <ul className="vlist__inner" aria-label={label} style={{ height: virtualizer.getTotalSize() }}>
        {items.map((item) => (
          <li
            key={item.key}
            className="vlist__row"
            aria-setsize={count}
            aria-posinset={item.index + 1}
            data-index={item.index}
            style={{ transform: `translateY(${item.start}px)`, height: rowHeight }}
          >
            {renderRow(item.index)}
          </li>
        ))}
      </ul>
    </div>
  );
}
