import { useState, type FormEvent } from 'react';
import { useServices } from '../hooks/services';
import { startSsoSignInMutation } from '../lib/api/operations/sso';
import { rememberSsoSignIn, ssoStartInput } from '../lib/sso';
import { fieldErrorFor } from '../lib/field-errors';
import { Button } from './button';
import { ErrorNotice } from './feedback';
import { Field, TextInput } from './form';

/** Sends the browser to the organization's identity provider (by work address or sign-in name). */
export async function goToSso(api: ReturnType<typeof useServices>['api'], typed: string, redirect: string): Promise<void> {
  const { startSsoSignIn } = await api.request(startSsoSignInMutation, { input: ssoStartInput(typed) }, { authenticated: false });
  rememberSsoSignIn(window.sessionStorage, { binding: startSsoSignIn.binding, redirect });
  window.location.assign(startSsoSignIn.authorizationUrl);
}

export function SsoSignInForm({ redirect, initial = '', onCancel }: { redirect: string; initial?: string; onCancel: () => void }) {
  const { api } = useServices();
  const [typed, setTyped] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await goToSso(api, typed, redirect);
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  };
  const problem = fieldErrorFor(error, 'email') ?? fieldErrorFor(error, 'slug');
  return (
    <form onSubmit={(e) => void submit(e)} className="space-y-4" noValidate aria-label="Single sign-on">
      {error !== undefined && problem === undefined && <ErrorNotice error={error} title="Single sign-on could not start" />}
      <Field label="Work e-mail or organization sign-in name" error={problem}>
        {(p) => <TextInput {...p} required autoComplete="username" value={typed} onChange={(e) => setTyped(e.target.value)} autoFocus />}
      </Field>
      <Button type="submit" variant="primary" className="w-full" busy={busy} disabled={typed.trim() === ''}>
        Continue with SSO
      </Button>
      <Button variant="ghost" className="w-full" onClick={onCancel}>
        Sign in with a password instead
      </Button>
    </form>
  );
}
