import { CircleX, RefreshCw, type LucideIcon } from 'lucide-react';
import type { ReactNode } from 'react';
import { Disclosure, DisclosurePanel, Button as AriaButton, Heading } from 'react-aria-components';

import type { ResultError } from '../../../src-main/contract/result.ts';
import { Button } from './Button.tsx';
import { describeError } from './words.ts';

/** Nothing here yet: what it will hold and the one thing to do about it. */
export function EmptyState({
  icon: Icon,
  title,
  children,
  action,
  headingLevel = 2,
}: {
  icon: LucideIcon;
  title: string;
  children?: ReactNode;
  action?: ReactNode;
  headingLevel?: 2 | 3;
}) {
  const H = headingLevel === 2 ? 'h2' : 'h3';
  return (
    <div className="state state--empty">
      <Icon aria-hidden="true" size={40} className="state__icon" />
      <H className="state__title">{title}</H>
      {children ? <div className="state__text">{children}</div> : null}
      {action ? <div className="state__action">{action}</div> : null}
    </div>
  );
}

/**
 * A failure in plain words (never an error code): what happened, what to do, a "Try again", and the
 * technical text folded away for whoever supports the office.
 */
export function ErrorState({
  error,
  title,
  onRetry,
  compact,
  headingLevel = 2,
}: {
  error: ResultError;
  /** replaces the generic title ("Could not load the alerts") */
  title?: string;
  onRetry?: () => void;
  compact?: boolean;
  headingLevel?: 2 | 3;
}) {
  const words = describeError(error);
  const H = headingLevel === 2 ? 'h2' : 'h3';
  return (
    <div className={`state state--error${compact ? ' state--compact' : ''}`} role="alert">
      <CircleX aria-hidden="true" size={compact ? 20 : 36} className="state__icon" />
      <H className="state__title">{title ?? words.title}</H>
      <p className="state__text">{title ? `${words.title}. ${words.hint}` : words.hint}</p>
      <div className="state__action">
        {onRetry ? (
          <Button icon={RefreshCw} onPress={onRetry} size={compact ? 'sm' : 'md'}>
            Try again
          </Button>
        ) : null}
      </div>
      <Details text={words.details} />
    </div>
  );
}

function Details({ text }: { text: string }) {
  return (
    <Disclosure className="details">
      <Heading level={4} className="details__heading">
        <AriaButton slot="trigger" className="details__trigger">
          Technical details
        </AriaButton>
      </Heading>
      <DisclosurePanel className="details__panel">
        <p className="mono">{text}</p>
      </DisclosurePanel>
    </Disclosure>
  );
}

/** A compact error line inside a form or a row. */
export function InlineError({ error, prefix }: { error: ResultError; prefix?: string }) {
  const words = describeError(error);
  return (
    <p className="inline-error" role="alert">
      <CircleX aria-hidden="true" size={16} />
      <span>
        {prefix ? `${prefix}: ` : ''}
        {words.title}. {words.hint}
      </span>
    </p>
  );
}

/** Grey blocks where content is about to appear; `label` is what a screen reader hears. */
export function Skeleton({ lines = 3, label = 'Loading…' }: { lines?: number; label?: string }) {
  return (
    <div className="skeleton" role="status">
      <span className="visually-hidden">{label}</span>
      {Array.from({ length: lines }, (_, i) => (
        <div key={i} className="skeleton__line" aria-hidden="true" />
      ))}
    </div>
  );
}

/** A small spinner with words, for something on its way. */
export function Pending({ children }: { children: string }) {
  return (
    <p className="pending" role="status">
      <span className="spinner" aria-hidden="true" />
      {children}
    </p>
  );
}
