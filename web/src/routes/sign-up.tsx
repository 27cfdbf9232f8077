import { createRoute, Link, useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { AuthCard } from '../components/auth-card';
import { Button } from '../components/button';
import { ErrorNotice } from '../components/feedback';
import { Field, TextInput } from '../components/form';
import { Redirect } from '../components/redirect';
import { useServices } from '../hooks/services';
import { useAuthRequest } from '../hooks/use-auth-request';
import { useSessionState } from '../hooks/use-session';
import { signUpMutation } from '../lib/api/operations/identity';
import { blamesField, fieldErrorFor } from '../lib/field-errors';
import { PASSWORD_RULES } from '../lib/validation';
import { rootRoute } from './root';

function SignUpPage() {
  const { api } = useServices();
  const state = useSessionState();
  const navigate = useNavigate();
  const [form, setForm] = useState({ name: '', email: '', password: '', organizationName: '' });
  const { busy, error, run } = useAuthRequest();
  if (state.status === 'signedIn') return <Redirect to="/" />;
  const set = (key: keyof typeof form) => (event: { target: { value: string } }) => setForm((f) => ({ ...f, [key]: event.target.value }));
  const fieldError = (name: string) => fieldErrorFor(error, name);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await run(async () => (await api.request(signUpMutation, { input: form }, { authenticated: false })).signUp)) await navigate({ to: '/', replace: true });
  };

  return (
    <AuthCard
      title="Create your organization"
      subtitle="You become its owner and can invite your team."
      footer={
        <>
          Already have an account?{' '}
          <Link to="/sign-in" search={{}} className="font-medium text-indigo-600 hover:text-indigo-500">
            Sign in
          </Link>
        </>
      }
    >
      <form onSubmit={(e) => void submit(e)} className="space-y-4" noValidate>
        {error !== undefined && !blamesField(error, ['organizationName', 'name', 'email', 'password']) && <ErrorNotice error={error} title="Sign-up failed" />}
        <Field label="Organization name" error={fieldError('organizationName')}>{(p) => <TextInput {...p} required value={form.organizationName} onChange={set('organizationName')} autoFocus />}</Field>
        <Field label="Your name" error={fieldError('name')}>{(p) => <TextInput {...p} required autoComplete="name" value={form.name} onChange={set('name')} />}</Field>
        <Field label="Email" error={fieldError('email')}>{(p) => <TextInput {...p} type="email" required autoComplete="username" value={form.email} onChange={set('email')} />}</Field>
        <Field label="Password" hint={`A password of ${PASSWORD_RULES}`} error={fieldError('password')}>
          {(p) => <TextInput {...p} type="password" required autoComplete="new-password" value={form.password} onChange={set('password')} />}
        </Field>
        <Button type="submit" variant="primary" className="w-full" busy={busy}>
          Create organization
        </Button>
      </form>
    </AuthCard>
  );
}

export const signUpRoute = createRoute({ getParentRoute: () => rootRoute, path: '/sign-up', component: SignUpPage });
