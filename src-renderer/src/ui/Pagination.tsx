import { ChevronLeft, ChevronRight } from 'lucide-react';

import { Button } from './Button.tsx';

/** "21–40 of 120" with Previous and Next; hidden when everything fits on one page. */
export function Pagination({
  page,
  pageSize,
  total,
  onChange,
  label,
}: {
  /** 0-based */
  page: number;
  pageSize: number;
  total: number;
  onChange: (page: number) => void;
  /** what is paged, for the landmark: "Sources pages" */
  label: string;
}) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (pages <= 1) return null;
  const from = page * pageSize + 1;
  const to = Math.min(total, (page + 1) * pageSize);
  return (
    <div className="pagination" role="group" aria-label={label}>
      <Button size="sm" icon={ChevronLeft} isDisabled={page === 0} onPress={() => onChange(page - 1)}>
        Previous
      </Button>
      <span className="pagination__status" aria-live="polite">
        {from}–{to} of {total}
      </span>
      <Button size="sm" icon={ChevronRight} isDisabled={page >= pages - 1} onPress={() => onChange(page + 1)}>
        Next
      </Button>
    </div>
  );
}

/** the page that still exists after the list shrank */
export function clampPage(page: number, pageSize: number, total: number): number {
  return Math.max(0, Math.min(page, Math.ceil(total / pageSize) - 1));
}
