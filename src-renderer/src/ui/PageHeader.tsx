import { useEffect, useRef, type ReactNode } from 'react';

import { routerSelectors, useRouterStore } from '../stores/router/index.ts';

/**
 * The title of a page (its only h1) with what it is for and its main actions. After a navigation the title
 * takes the focus, so a screen reader announces the new page and Tab continues from there.
 */
export function PageHeader({
  title,
  description,
  actions,
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  const ref = useRef<HTMLHeadingElement>(null);
  const visit = useRouterStore(routerSelectors.visit);
  useEffect(() => {
    if (visit > 0) ref.current?.focus({ preventScroll: false });
  }, [visit]);
  return (
    <header className="page-header">
      <div className="page-header__text">
        <h1 ref={ref} tabIndex={-1} className="page-header__title">
          {title}
        </h1>
        {description ? <p className="page-header__description">{description}</p> : null}
      </div>
      {actions ? <div className="page-header__actions">{actions}</div> : null}
    </header>
  );
}
