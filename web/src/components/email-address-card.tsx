import { useState, type FormEvent } from 'react';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { changeEmailMutation, meQuery } from '../lib/api/operations/identity';
import { queryKeys } from '../lib/api/query-keys';
import { blamesField, fieldErrorFor } from '../lib/field-errors';
import { Button } from './button';
import { Card } from './card';
import { ErrorNotice, Notice } from './feedback';
import { Field, TextInput } from './form';

/** The account's address, whether it is verified, and a change that takes effect when the new address is verified. */
export function EmailAddressCard() {
  const me = useApiQuery(queryKeys.me, meQuery, {});
  const [form, setForm] = useState({ newEmail: '', currentPassword: '' });
  const change = useApiMutation(changeEmailMutation, {
    invalidates: [queryKeys.me],
    onSuccess: () => setForm({ newEmail: '', currentPassword: '' }),
  });
  const user = me.data?.me.user;
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => {
    setForm((f) => ({ ...f, [key]: e.target.value }));
    if (change.error) change.reset();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    change.mutate({ input: { newEmail: form.newEmail.trim(), currentPassword: form.currentPassword } });
  };
  return (
    <Card title="E-mail address">
      <form onSubmit={submit} className="max-w-md space-y-4" noValidate>
        {user && (
          <p className="text-sm text-slate-700" data-testid="email-status">
            {user.email} — {user.emailVerified ? 'verified' : 'not verified yet'}
          </p>
        )}
        {user?.pendingEmail && <Notice tone="info">We mailed a link to {user.pendingEmail}: your address changes when it is followed.</Notice>}
        {change.error && !blamesField(change.error, ['newEmail', 'currentPassword']) && <ErrorNotice error={change.error} title="Your address was not changed" />}
        <Field label="New address" error={fieldErrorFor(change.error, 'newEmail')}>
          {(p) => <TextInput {...p} type="email" autoComplete="email" value={form.newEmail} onChange={set('newEmail')} />}
        </Field>
        <Field label="Your password" hint="To confirm it is you." error={fieldErrorFor(change.error, 'currentPassword')}>
          {(p) => <TextInput {...p} type="password" autoComplete="current-password" value={form.currentPassword} onChange={set('currentPassword')} />}
        </Field>
        <Button type="submit" variant="primary" busy={change.isPending} disabled={!form.newEmail.trim() || !form.currentPassword}>
          Change address
        </Button>
      </form>
    </Card>
  );
}
