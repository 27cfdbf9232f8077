import { createRoute, Link, useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { AuthCard } from '../components/auth-card';
import { Button } from '../components/button';
import { ErrorNotice, Notice } from '../components/feedback';
import { Field, TextInput } from '../components/form';
import { useServices } from '../hooks/services';
import { useAuthRequest } from '../hooks/use-auth-request';
import { useSessionState } from '../hooks/use-session';
import { acceptInvitationMutation } from '../lib/api/operations/identity';
import { blamesField, fieldErrorFor } from '../lib/field-errors';
import { PASSWORD_RULES } from '../lib/validation';
import { rootRoute } from './root';

function AcceptInvitationPage() {
  const { api } = useServices();
  const state = useSessionState();
  const search = acceptInvitationRoute.useSearch();
  const navigate = useNavigate();
  const [token, setToken] = useState(search.token ?? '');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, run } = useAuthRequest();
  // The link an admin hands over carries the token: then there is nothing to paste (unless it is refused).
  const fromLink = Boolean(search.token) && !fieldErrorFor(error, 'token');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const input = { token: token.trim(), password, ...(name.trim() ? { name: name.trim() } : {}) };
    if (await run(async () => (await api.request(acceptInvitationMutation, { input }, { authenticated: false })).acceptInvitation)) await navigate({ to: '/', replace: true });
  };

  return (
    <AuthCard
      title="Join an organization"
      subtitle={fromLink ? 'Set your name and password to accept the invitation.' : 'Paste the invitation token an admin gave you.'}
      footer={
        <Link to="/sign-in" search={{}} className="font-medium text-indigo-600 hover:text-indigo-500">
          Back to sign in
        </Link>
      }
    >
      <form onSubmit={(e) => void submit(e)} className="space-y-4" noValidate>
        {state.status === 'signedIn' && <Notice>You are signed in as {state.identity.user.email}; accepting signs you in as the invited person.</Notice>}
        {error !== undefined && !blamesField(error, ['token', 'name', 'password']) && <ErrorNotice error={error} title="The invitation could not be accepted" />}
        {!fromLink && <Field label="Invitation token" error={fieldErrorFor(error, 'token')}>{(p) => <TextInput {...p} required value={token} onChange={(e) => setToken(e.target.value)} className="font-mono" />}</Field>}
        <Field label="Your name" hint="Only needed when you do not have an Orchestra account yet." error={fieldErrorFor(error, 'name')}>
          {(p) => <TextInput {...p} autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Password" hint={<>New to Orchestra: choose a password of {PASSWORD_RULES} Already have an account: your existing password.</>} error={fieldErrorFor(error, 'password')}>
          {(p) => <TextInput {...p} type="password" required autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />}
        </Field>
        <Button type="submit" variant="primary" className="w-full" busy={busy}>
          Accept and sign in
        </Button>
      </form>
    </AuthCard>
  );
}

export const acceptInvitationRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/accept-invitation',
  validateSearch: (search: Record<string, unknown>): { token?: string } => (typeof search['token'] === 'string' ? { token: search['token'] } : {}),
  component: AcceptInvitationPage,
});
