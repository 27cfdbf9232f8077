import { createRoute, Link } from '@tanstack/react-router';
import { useEffect, useState, type FormEvent } from 'react';
import { AuthCard } from '../components/auth-card';
import { Button } from '../components/button';
import { ErrorNotice, Notice } from '../components/feedback';
import { Field, TextInput } from '../components/form';
import { useServices } from '../hooks/services';
import { resetPasswordMutation } from '../lib/api/operations/identity';
import { blamesField, fieldErrorFor } from '../lib/field-errors';
import { PASSWORD_RULES } from '../lib/validation';
import { rootRoute } from './root';

/** Where the reset mail's link leads: choose a new password with the token it carries. */
function ResetPasswordPage() {
  const { api } = useServices();
  const search = resetPasswordRoute.useSearch();
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState(false);
  useEffect(() => {
    document.title = 'Choose a new password · Orchestra';
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.request(resetPasswordMutation, { input: { token: search.token ?? '', newPassword: password } }, { authenticated: false });
      setDone(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const tokenProblem = search.token === undefined ? 'This page needs the link from the reset mail.' : fieldErrorFor(error, 'token');
  return (
    <AuthCard
      title="Choose a new password"
      subtitle="Every session of your account ends; sign in again with the new password."
      footer={
        <>
          <Link to="/sign-in" search={{}} className="font-medium text-indigo-600 hover:text-indigo-500">
            Back to sign in
          </Link>{' '}
          ·{' '}
          <Link to="/forgot-password" className="font-medium text-indigo-600 hover:text-indigo-500">
            Ask for a new link
          </Link>
        </>
      }
    >
      {done ? (
        <Notice tone="success">
          Your password was changed.{' '}
          <Link to="/sign-in" search={{}} className="font-medium text-indigo-600 hover:text-indigo-500">
            Sign in
          </Link>
        </Notice>
      ) : (
        <form onSubmit={(e) => void submit(e)} className="space-y-4" noValidate>
          {tokenProblem !== undefined && <Notice tone="warning">{tokenProblem}</Notice>}
          {error !== undefined && !blamesField(error, ['token', 'newPassword']) && <ErrorNotice error={error} title="The password could not be changed" />}
          <Field label="New password" hint={<>Choose a password of {PASSWORD_RULES}</>} error={fieldErrorFor(error, 'newPassword')}>
            {(p) => <TextInput {...p} type="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} autoFocus />}
          </Field>
          <Button type="submit" variant="primary" className="w-full" busy={busy} disabled={search.token === undefined}>
            Set the new password
          </Button>
        </form>
      )}
    </AuthCard>
  );
}

export const resetPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/reset-password',
  validateSearch: (search: Record<string, unknown>): { token?: string } => (typeof search['token'] === 'string' ? { token: search['token'] } : {}),
  component: ResetPasswordPage,
});
