import { useMutation } from '@tanstack/react-query';
import { createRoute } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { Button } from '../components/button';
import { Card } from '../components/card';
import { EmailAddressCard } from '../components/email-address-card';
import { OrganizationSecurityCard } from '../components/organization-security-card';
import { TwoFactorCard } from '../components/two-factor-card';
import { ErrorNotice, Notice } from '../components/feedback';
import { Field, TextInput } from '../components/form';
import { PageHeader } from '../components/page-header';
import { useServices } from '../hooks/services';
import { useApiMutation } from '../hooks/use-api';
import { useIdentity, usePermissions } from '../hooks/use-session';
import type { ChangePasswordInput } from '../lib/api/__generated__/graphql';
import type { ApiError } from '../lib/api/errors';
import { updateProfileMutation } from '../lib/api/operations/identity';
import { blamesField, fieldErrorFor } from '../lib/field-errors';
import { hasProblems, PASSWORD_RULES, passwordChangeProblems, type FieldProblems } from '../lib/validation';
import { appLayoutRoute } from './app-layout';

function ProfileCard() {
  const identity = useIdentity();
  const { session } = useServices();
  const [name, setName] = useState(identity.user.name);
  const [saved, setSaved] = useState(false);
  const update = useApiMutation(updateProfileMutation, {
    onSuccess: () => {
      setSaved(true);
      // The header shows the name the session holds: a fresh session carries the new one.
      void session.getAccessToken().then((token) => session.refresh(token)).catch(() => undefined);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    update.mutate({ input: { name: name.trim() } });
  };
  return (
    <Card title="Profile">
      <form onSubmit={submit} className="max-w-md space-y-4" noValidate>
        {saved && <Notice tone="success">Your name is now {name.trim()}.</Notice>}
        {update.error && !blamesField(update.error, ['name']) && <ErrorNotice error={update.error} title="Your name was not changed" />}
        <Field label="Email" hint="Your sign-in address; change it below.">{(p) => <TextInput {...p} value={identity.user.email} readOnly disabled />}</Field>
        <Field label="Name" error={fieldErrorFor(update.error, 'name')}>
          {(p) => (
            <TextInput
              {...p}
              autoComplete="name"
              value={name}
              onChange={(e) => {
                setName(e.target.value);
                setSaved(false);
                if (update.error) update.reset();
              }}
            />
          )}
        </Field>
        <Button type="submit" variant="primary" busy={update.isPending} disabled={name.trim() === identity.user.name || !name.trim()}>
          Save name
        </Button>
      </form>
    </Card>
  );
}

function PasswordCard() {
  const services = useServices();
  const [form, setForm] = useState({ currentPassword: '', newPassword: '', confirmation: '' });
  const [problems, setProblems] = useState<FieldProblems<keyof typeof form>>({});
  const [changed, setChanged] = useState(false);
  // Every session ended, this one too: the answer is the new one (adopted under the rotation lock).
  const change = useMutation<unknown, ApiError, ChangePasswordInput>({
    mutationFn: (input) => services.changePassword(input),
    onSuccess: () => {
      setForm({ currentPassword: '', newPassword: '', confirmation: '' });
      setChanged(true);
    },
  });
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => {
    setForm((f) => ({ ...f, [key]: e.target.value }));
    setProblems((p) => ({ ...p, [key]: undefined }));
    setChanged(false);
    if (change.error) change.reset();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = passwordChangeProblems(form);
    setProblems(found);
    if (hasProblems(found)) return;
    change.mutate({ currentPassword: form.currentPassword, newPassword: form.newPassword });
  };
  const apiError = (field: string) => fieldErrorFor(change.error, field);
  return (
    <Card title="Password">
      <form onSubmit={submit} className="max-w-md space-y-4" noValidate>
        {changed && <Notice tone="success">Your password was changed. Every other session (other browsers, other devices) has been signed out.</Notice>}
        {change.error && !blamesField(change.error, ['currentPassword', 'newPassword']) && <ErrorNotice error={change.error} title="Your password was not changed" />}
        <Field label="Current password" error={problems.currentPassword ?? apiError('currentPassword')}>
          {(p) => <TextInput {...p} type="password" autoComplete="current-password" value={form.currentPassword} onChange={set('currentPassword')} />}
        </Field>
        <Field label="New password" hint={`${PASSWORD_RULES.charAt(0).toUpperCase()}${PASSWORD_RULES.slice(1)}`} error={problems.newPassword ?? apiError('newPassword')}>
          {(p) => <TextInput {...p} type="password" autoComplete="new-password" value={form.newPassword} onChange={set('newPassword')} />}
        </Field>
        <Field label="New password again" error={problems.confirmation}>
          {(p) => <TextInput {...p} type="password" autoComplete="new-password" value={form.confirmation} onChange={set('confirmation')} />}
        </Field>
        <p className="text-xs text-slate-500">Changing it signs you out everywhere else.</p>
        <Button type="submit" variant="primary" busy={change.isPending}>
          Change password
        </Button>
      </form>
    </Card>
  );
}

function AccountPage() {
  const can = usePermissions();
  return (
    <>
      <PageHeader title="Your account" description="Your name as others see it, your address, your password and two-factor sign-in." />
      <div className="space-y-6">
        <ProfileCard />
        <EmailAddressCard />
        <PasswordCard />
        <TwoFactorCard />
        {can.manageMembers && <OrganizationSecurityCard />}
      </div>
    </>
  );
}

export const accountRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/account', component: AccountPage });
