import { createRoute, Link } from '@tanstack/react-router';
import { useEffect, useState, type FormEvent } from 'react';
import { AuthCard } from '../components/auth-card';
import { Button } from '../components/button';
import { ErrorNotice, Notice } from '../components/feedback';
import { Field, TextInput } from '../components/form';
import { Redirect } from '../components/redirect';
import { goToSso, SsoSignInForm } from '../components/sso-sign-in-form';
import { useServices } from '../hooks/services';
import { useAuthRequest } from '../hooks/use-auth-request';
import { useSessionState } from '../hooks/use-session';
import { ApiError } from '../lib/api/errors';
import { completeTwoFactorSignInMutation, loginMutation } from '../lib/api/operations/identity';
import { blamesField, fieldErrorFor } from '../lib/field-errors';
import { hasProblems, signInProblems, type FieldProblems } from '../lib/validation';
import { rootRoute } from './root';

export interface SignInSearch {
  redirect?: string;
}

/** Only paths of this app: never an absolute URL someone slipped into the link. */
export const safeRedirect = (target: string | undefined): string => (target && target.startsWith('/') && !target.startsWith('//') ? target : '/');

function SignInPage() {
  const { api } = useServices();
  const state = useSessionState();
  const search = signInRoute.useSearch();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, setError, run } = useAuthRequest();
  const [problems, setProblems] = useState<FieldProblems<'email' | 'password'>>({});
  // After a right password for an account with two-factor: the challenge to trade, with a code, for a session.
  const [challenge, setChallenge] = useState<string>();
  const [code, setCode] = useState('');
  const [sso, setSso] = useState(false);
  useEffect(() => {
    document.title = 'Sign in · Orchestra';
  }, []);

  // Signed in (just now, or already when the page opened): on to where the user was going.
  if (state.status === 'signedIn') return <Redirect to={safeRedirect(search.redirect)} />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    const found = signInProblems({ email, password });
    setProblems(found);
    if (hasProblems(found)) return;
    // Signed in, the page redirects (above) once the session says so.
    const signedIn = await run(async () => (await api.request(loginMutation, { input: { email: email.trim(), password } }, { authenticated: false })).login);
    if (signedIn) return;
  };

  // login answers TWO_FACTOR_REQUIRED with the challenge in the error: the form asks for the code next.
  const pendingChallenge = challenge ?? (error instanceof ApiError && error.reason === 'TWO_FACTOR_REQUIRED' && typeof error.extensions['challengeToken'] === 'string' ? error.extensions['challengeToken'] : undefined);

  const submitCode = async (event: FormEvent) => {
    event.preventDefault();
    if (pendingChallenge === undefined) return;
    setChallenge(pendingChallenge);
    await run(async () => (await api.request(completeTwoFactorSignInMutation, { input: { challengeToken: pendingChallenge, code: code.trim() } }, { authenticated: false })).completeTwoFactorSignIn);
  };

  if (pendingChallenge !== undefined) {
    const closed = error instanceof ApiError && error.field === 'challengeToken';
    return (
      <AuthCard title="Two-factor sign-in" subtitle="Enter the six digits your authenticator app shows, or one of your recovery codes.">
        <form onSubmit={(e) => void submitCode(e)} className="space-y-4" noValidate>
          {error !== undefined && !blamesField(error, ['code']) && !(error instanceof ApiError && error.reason === 'TWO_FACTOR_REQUIRED') && <ErrorNotice error={error} title="Sign-in failed" />}
          <Field label="Code" error={fieldErrorFor(error, 'code')}>
            {(p) => <TextInput {...p} inputMode="numeric" autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} autoFocus />}
          </Field>
          {closed ? (
            <Button
              variant="primary"
              className="w-full"
              onClick={() => {
                setChallenge(undefined);
                setCode('');
                setError(undefined);
              }}
            >
              Start again
            </Button>
          ) : (
            <Button type="submit" variant="primary" className="w-full" busy={busy}>
              Verify
            </Button>
          )}
        </form>
      </AuthCard>
    );
  }

  // login answers SSO_REQUIRED for members of an organization that signs in through its provider.
  const ssoSlug = error instanceof ApiError && error.reason === 'SSO_REQUIRED' && typeof error.extensions['ssoSlug'] === 'string' ? error.extensions['ssoSlug'] : undefined;

  if (sso) {
    return (
      <AuthCard title="Sign in with SSO" subtitle="Your organization's identity provider signs you in.">
        <SsoSignInForm redirect={safeRedirect(search.redirect)} initial={email} onCancel={() => setSso(false)} />
      </AuthCard>
    );
  }

  return (
    <AuthCard
      title="Sign in to Orchestra"
      subtitle="The control plane for your AI automation."
      footer={
        <>
          New here?{' '}
          <Link to="/sign-up" className="font-medium text-indigo-600 hover:text-indigo-500">
            Create an organization
          </Link>{' '}
          ·{' '}
          <Link to="/accept-invitation" search={{}} className="font-medium text-indigo-600 hover:text-indigo-500">
            Accept an invitation
          </Link>
        </>
      }
    >
      <form onSubmit={(e) => void submit(e)} className="space-y-4" noValidate>
        {state.status === 'signedOut' && state.reason && <Notice tone="warning">{state.reason}</Notice>}
        {ssoSlug !== undefined ? (
          <Notice tone="warning">
            Your organization requires single sign-on.{' '}
            <Button size="sm" variant="primary" onClick={() => void goToSso(api, ssoSlug, safeRedirect(search.redirect)).catch(setError)}>
              Continue with SSO
            </Button>
          </Notice>
        ) : (
          error !== undefined && <ErrorNotice error={error} title="Sign-in failed" />
        )}
        <Field label="Email" error={problems.email}>
          {(p) => <TextInput {...p} type="email" autoComplete="username" required value={email} onChange={(e) => { setEmail(e.target.value); setProblems((p) => ({ ...p, email: undefined })); }} autoFocus />}
        </Field>
        <Field label="Password" error={problems.password}>
          {(p) => <TextInput {...p} type="password" autoComplete="current-password" required value={password} onChange={(e) => { setPassword(e.target.value); setProblems((p) => ({ ...p, password: undefined })); }} />}
        </Field>
        <p className="text-right text-sm">
          <Link to="/forgot-password" className="font-medium text-indigo-600 hover:text-indigo-500">
            Forgot password?
          </Link>
        </p>
        <Button type="submit" variant="primary" className="w-full" busy={busy}>
          Sign in
        </Button>
        <Button variant="secondary" className="w-full" onClick={() => { setError(undefined); setSso(true); }}>
          Sign in with SSO
        </Button>
      </form>
    </AuthCard>
  );
}

export const signInRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/sign-in',
  validateSearch: (search: Record<string, unknown>): SignInSearch => (typeof search['redirect'] === 'string' ? { redirect: search['redirect'] } : {}),
  component: SignInPage,
});
