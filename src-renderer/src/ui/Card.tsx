import { useId, type ReactNode } from 'react';

/** A block of related things with an optional heading (a labelled region when it has one). */
export function Card({
  title,
  headingLevel = 2,
  actions,
  children,
  className,
  ...data
}: {
  title?: ReactNode;
  headingLevel?: 2 | 3;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
} & { [key: `data-${string}`]: string | undefined }) {
  const id = useId();
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  return (
    <section className={`card ${className ?? ''}`} aria-labelledby={title ? id : undefined} {...data}>
      {title || actions ? (
        <header className="card__header">
          {title ? (
            <Heading id={id} className="card__title">
              {title}
            </Heading>
          ) : null}
          {actions ? <div className="card__actions">{actions}</div> : null}
        </header>
      ) : null}
      <div className="card__body">{children}</div>
    </section>
  );
}
