import { useQueryClient } from '@tanstack/react-query';
import { createRoute, Link } from '@tanstack/react-router';
import { useEffect, useRef, useState } from 'react';
import { AuthCard } from '../components/auth-card';
import { ErrorNotice, Notice, Spinner } from '../components/feedback';
import { useServices } from '../hooks/services';
import { verifyEmailMutation } from '../lib/api/operations/identity';
import { queryKeys } from '../lib/api/query-keys';
import { fieldErrorFor } from '../lib/field-errors';
import { rootRoute } from './root';

/** Where a verification mail's link leads: follows it once, signed in or not. */
function VerifyEmailPage() {
  const { api } = useServices();
  const queryClient = useQueryClient();
  const search = verifyEmailRoute.useSearch();
  const [state, setState] = useState<{ status: 'working' } | { status: 'done' } | { status: 'failed'; error: unknown }>({ status: 'working' });
  // The link is single-use: a second call (React's development double effects) would report it spent.
  const started = useRef(false);
  useEffect(() => {
    document.title = 'Verify your e-mail address · Orchestra';
    if (started.current || search.token === undefined) return;
    started.current = true;
    api
      .request(verifyEmailMutation, { token: search.token }, { authenticated: false })
      .then(async () => {
        setState({ status: 'done' });
        await queryClient.invalidateQueries({ queryKey: queryKeys.me });
      })
      .catch((error: unknown) => setState({ status: 'failed', error }));
  }, [api, queryClient, search.token]);

  const tokenProblem = state.status === 'failed' ? fieldErrorFor(state.error, 'token') : undefined;
  return (
    <AuthCard
      title="Verify your e-mail address"
      footer={
        <Link to="/" className="font-medium text-indigo-600 hover:text-indigo-500">
          Go to Orchestra
        </Link>
      }
    >
      {search.token === undefined ? (
        <Notice tone="warning">This page needs the link from the verification mail.</Notice>
      ) : state.status === 'working' ? (
        <Spinner label="Verifying" />
      ) : state.status === 'done' ? (
        <Notice tone="success">Your address is verified.</Notice>
      ) : tokenProblem !== undefined ? (
        <Notice tone="warning">{tokenProblem} You can ask for a new link from the banner once signed in.</Notice>
      ) : (
        <ErrorNotice error={state.error} title="Your address was not verified" />
      )}
    </AuthCard>
  );
}

export const verifyEmailRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/verify-email',
  validateSearch: (search: Record<string, unknown>): { token?: string } => (typeof search['token'] === 'string' ? { token: search['token'] } : {}),
  component: VerifyEmailPage,
});
