import type { ResultError } from '../../../src-main/contract/result.ts';

export function Loading({ what }: { what: string }) {
  return (
    <p className="status status--loading" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: string }) {
  return <p className="status status--empty">{children}</p>;
}

/** Shows a Result error: its message and, when the main side gave one, what the user can do. */
export function ErrorNotice({ error, onRetry }: { error: ResultError; onRetry?: () => void }) {
  return (
    <div className="status status--error" role="alert" data-code={error.code}>
      <p>{error.message}</p>
      {error.hint ? <p className="status__hint">{error.hint}</p> : null}
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}
