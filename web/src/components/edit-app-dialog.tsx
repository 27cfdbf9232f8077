import { useState, type FormEvent } from 'react';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import type { AppQuery } from '../lib/api/__generated__/graphql';
import { updateAppMutation } from '../lib/api/operations/apps';
import { membersQuery } from '../lib/api/operations/identity';
import { queryKeys } from '../lib/api/query-keys';
import { appChanges } from '../lib/app-changes';
import { blamesField, fieldErrorFor } from '../lib/field-errors';
import { Dialog, FormDialogFooter } from './dialog';
import { ErrorNotice } from './feedback';
import { Field, SelectInput, TextInput } from './form';

type App = NonNullable<AppQuery['app']>;

const FIELDS = ['name', 'slug', 'description', 'tags', 'healthCheckUrl', 'ownerId'] as const;

export function EditAppDialog({ app, onClose }: { app: App; onClose: () => void }) {
  const [form, setForm] = useState({
    name: app.name,
    slug: app.slug,
    description: app.description,
    tags: app.tags.join(', '),
    healthCheckUrl: app.healthCheckUrl ?? '',
    ownerId: app.owner?.id ?? '',
  });
  const members = useApiQuery(queryKeys.members.choices, membersQuery, { first: 100 });
  const update = useApiMutation(updateAppMutation, { invalidates: [queryKeys.apps.detail(app.id), queryKeys.apps.all], onSuccess: onClose });
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => {
    setForm((f) => ({ ...f, [key]: e.target.value }));
    if (update.error) update.reset();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const changes = appChanges(app, form);
    if (Object.keys(changes).length === 0) {
      onClose();
      return;
    }
    update.mutate({ id: app.id, input: changes });
  };
  const err = (name: string) => fieldErrorFor(update.error, name);
  const owners = members.data?.members.edges.map((e) => e.node.user) ?? [];
  // The current owner stays choosable even when not among the members listed (or no longer a member).
  if (app.owner && !owners.some((u) => u.id === app.owner?.id)) owners.unshift(app.owner);
  return (
    <Dialog
      open
      onClose={onClose}
      title={`Edit ${app.name}`}
      wide
      footer={<FormDialogFooter formId="edit-app" submitLabel="Save changes" busy={update.isPending} onCancel={onClose} />}
    >
      <form id="edit-app" onSubmit={submit} className="grid grid-cols-1 gap-4 sm:grid-cols-2" noValidate>
        {update.error && !blamesField(update.error, FIELDS) && (
          <div className="sm:col-span-2">
            <ErrorNotice error={update.error} title="The app was not changed" />
          </div>
        )}
        <Field label="Name" error={err('name')}>{(p) => <TextInput {...p} required value={form.name} onChange={set('name')} autoFocus />}</Field>
        <Field label="Slug" hint="Lowercase letters, digits and hyphens; unique here." error={err('slug')}>{(p) => <TextInput {...p} required value={form.slug} onChange={set('slug')} className="font-mono" />}</Field>
        <Field label="Description" className="sm:col-span-2" error={err('description')}>{(p) => <TextInput {...p} value={form.description} onChange={set('description')} />}</Field>
        <Field label="Tags" hint="Comma separated." error={err('tags')}>{(p) => <TextInput {...p} value={form.tags} onChange={set('tags')} />}</Field>
        <Field label="Health-check URL" hint="Probed on an interval; empty stops the probing." error={err('healthCheckUrl')}>{(p) => <TextInput {...p} type="url" value={form.healthCheckUrl} onChange={set('healthCheckUrl')} />}</Field>
        <Field label="Owner" error={err('ownerId') ?? (members.error ? 'The members could not be loaded.' : undefined)}>
          {(p) => (
            <SelectInput {...p} value={form.ownerId} onChange={set('ownerId')} disabled={members.isPending}>
              <option value="">No owner</option>
              {owners.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name ? `${u.name} (${u.email})` : u.email}
                </option>
              ))}
            </SelectInput>
          )}
        </Field>
      </form>
    </Dialog>
  );
}
