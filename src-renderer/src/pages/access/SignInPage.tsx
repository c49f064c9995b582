import { KeyRound, ShieldCheck } from 'lucide-react';
import { useState } from 'react';
import { Disclosure, DisclosurePanel, Heading, Button as AriaButton } from 'react-aria-components';

import { signIn } from '../../api/http.ts';
import { appSelectors, useAppStore } from '../../stores/app/index.ts';
import { Button } from '../../ui/Button.tsx';
import { TextField } from '../../ui/fields.tsx';
import { describeError } from '../../ui/words.ts';

/**
 * What a browser tab shows when Bulwark's service did not accept it (no sign-in link, or an old one):
 * where the link comes from, in plain words, and a field to paste it.
 */
export function SignInPage() {
  const error = useAppStore(appSelectors.error);
  const [pasted, setPasted] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const [pending, setPending] = useState(false);

  async function submit() {
    setPending(true);
    const result = await signIn(pasted, { baseUrl: window.location.origin });
    setPending(false);
    if (result.ok) {
      // signed in: this browser has its session now; start again without anything in the address bar
      window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}`);
      window.location.reload();
      return;
    }
    setProblem(
      result.error.code === 'INVALID_ARGUMENT'
        ? 'That is not a Bulwark sign-in link. Copy the whole link, including the part after “#token=”.'
        : result.error.code === 'PERMISSION'
          ? 'This link does not open this Bulwark (it may be an old one). Ask for the current link.'
          : `${describeError(result.error).title}. ${describeError(result.error).hint}`,
    );
  }

  return (
    <main className="signin" id="main">
      <div className="signin__card card">
        <div className="brand brand--large">
          <ShieldCheck aria-hidden="true" size={32} className="brand__mark" />
          <span className="brand__name">Bulwark</span>
        </div>
        <h1 className="signin__title">Sign in to Bulwark</h1>
        <div className="signin__status" role="alert">
          <p>Not authorized: this page was opened without a valid sign-in link.</p>
        </div>
        <p>
          Bulwark runs as a service on the office computer. To see it in this browser, open the sign-in link
          it gave when it was set up: it looks like <span className="mono">http://127.0.0.1:…/#token=…</span>.
        </p>
        <p>If you have the link, paste it here:</p>
        <form
          className="signin__form"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <TextField
            label="Sign-in link"
            value={pasted}
            onChange={(v) => {
              setPasted(v);
              setProblem(undefined);
            }}
            errorMessage={problem}
            placeholder="http://127.0.0.1:…/#token=…"
          />
          <Button type="submit" variant="primary" icon={KeyRound} isPending={pending}>
            Sign in
          </Button>
        </form>
        <Disclosure className="details">
          <Heading level={2} className="details__heading">
            <AriaButton slot="trigger" className="details__trigger">
              I do not have the link
            </AriaButton>
          </Heading>
          <DisclosurePanel className="details__panel">
            <p>
              Ask the person who set up Bulwark on this computer. They can show the link again by running{' '}
              <code className="mono">bulwark serve --print-token</code> on it.
            </p>
            {error ? <p className="muted small">The service said: {error.message}</p> : null}
          </DisclosurePanel>
        </Disclosure>
      </div>
    </main>
  );
}
