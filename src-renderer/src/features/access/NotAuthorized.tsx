import { appSelectors, useAppStore } from '../../stores/app/index.ts';

/** What a browser tab without (or with a wrong) access token shows instead of the dashboard. */
export function NotAuthorized() {
  const error = useAppStore(appSelectors.error);
  return (
    <main className="app">
      <section className="notice notice--denied" role="alert" aria-labelledby="not-authorized-title">
        <h1 id="not-authorized-title">Not authorized</h1>
        <p>This page needs the access token of the Bulwark service, and it was opened without a valid one.</p>
        <p>
          Open the link that <code>bulwark serve</code> printed when it started: it ends in{' '}
          <code>#token=…</code>. To see the token again, run <code>bulwark serve --print-token</code> on the
          computer that runs the service.
        </p>
        {error ? <p className="muted">{error.message}</p> : null}
      </section>
    </main>
  );
}
