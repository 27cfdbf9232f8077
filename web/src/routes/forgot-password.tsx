import { createRoute, Link } from '@tanstack/react-router';
import { useEffect, useState, type FormEvent } from 'react';
import { AuthCard } from '../components/auth-card';
import { Button } from '../components/button';
import { ErrorNotice, Notice } from '../components/feedback';
import { Field, TextInput } from '../components/form';
import { useServices } from '../hooks/services';
import { requestPasswordResetMutation } from '../lib/api/operations/identity';
import { fieldErrorFor } from '../lib/field-errors';
import { rootRoute } from './root';

/** Asks for a reset mail. The answer is the same whether or not the address has an account. */
function ForgotPasswordPage() {
  const { api } = useServices();
  const [email, setEmail] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [sentTo, setSentTo] = useState<string>();
  useEffect(() => {
    document.title = 'Forgot password · Orchestra';
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.request(requestPasswordResetMutation, { email: email.trim() }, { authenticated: false });
      setSentTo(email.trim());
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthCard
      title="Reset your password"
      subtitle="We mail you a link to choose a new one."
      footer={
        <Link to="/sign-in" search={{}} className="font-medium text-indigo-600 hover:text-indigo-500">
          Back to sign in
        </Link>
      }
    >
      {sentTo !== undefined ? (
        <Notice>If {sentTo} has an Orchestra account, a mail with a reset link is on its way. The link works once, for a short time.</Notice>
      ) : (
        <form onSubmit={(e) => void submit(e)} className="space-y-4" noValidate>
          {error !== undefined && !fieldErrorFor(error, 'email') && <ErrorNotice error={error} title="The request failed" />}
          <Field label="Email" error={fieldErrorFor(error, 'email')}>
            {(p) => <TextInput {...p} type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />}
          </Field>
          <Button type="submit" variant="primary" className="w-full" busy={busy}>
            Mail me a reset link
          </Button>
        </form>
      )}
    </AuthCard>
  );
}

export const forgotPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/forgot-password',
  component: ForgotPasswordPage,
});
