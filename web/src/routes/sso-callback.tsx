import { createRoute, Link } from '@tanstack/react-router';
import { useEffect, useRef, useState } from 'react';
import { AuthCard } from '../components/auth-card';
import { ErrorNotice, Notice, Spinner } from '../components/feedback';
import { Redirect } from '../components/redirect';
import { useServices } from '../hooks/services';
import { useAuthRequest } from '../hooks/use-auth-request';
import { completeSsoSignInMutation } from '../lib/api/operations/sso';
import { takeSsoSignIn } from '../lib/sso';
import { rootRoute } from './root';
import { safeRedirect } from './sign-in';

/** Where the identity provider sends the browser back: trades the callback for a session, once. */
function SsoCallbackPage() {
  const { api } = useServices();
  const { error, run } = useAuthRequest();
  const [outcome, setOutcome] = useState<{ status: 'working' } | { status: 'done'; redirect: string } | { status: 'noBinding' } | { status: 'failed' }>({ status: 'working' });
  // The state is single-use: React's development double effects must not send it twice.
  const started = useRef(false);
  useEffect(() => {
    document.title = 'Signing in · Orchestra';
    if (started.current) return;
    started.current = true;
    const pending = takeSsoSignIn(window.sessionStorage);
    if (!pending) {
      setOutcome({ status: 'noBinding' });
      return;
    }
    const callbackQuery = window.location.search;
    void run(async () => (await api.request(completeSsoSignInMutation, { input: { callbackQuery, binding: pending.binding } }, { authenticated: false })).completeSsoSignIn).then((ok) =>
      setOutcome(ok ? { status: 'done', redirect: safeRedirect(pending.redirect) } : { status: 'failed' }),
    );
  }, [api, run]);

  if (outcome.status === 'done') return <Redirect to={outcome.redirect} />;
  return (
    <AuthCard
      title="Single sign-on"
      footer={
        <Link to="/sign-in" search={{}} className="font-medium text-indigo-600 hover:text-indigo-500">
          Back to sign-in
        </Link>
      }
    >
      {outcome.status === 'working' ? (
        <Spinner label="Signing you in" />
      ) : outcome.status === 'noBinding' ? (
        <Notice tone="warning">This sign-in was not started in this browser tab. Start single sign-on again from the sign-in page.</Notice>
      ) : (
        <ErrorNotice error={error} title="Single sign-on failed" />
      )}
    </AuthCard>
  );
}

export const ssoCallbackRoute = createRoute({ getParentRoute: () => rootRoute, path: '/sso/callback', component: SsoCallbackPage });
