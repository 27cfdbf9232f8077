import { createRoute } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { Button } from '../components/button';
import { Card } from '../components/card';
import { ConfirmDialog } from '../components/confirm-dialog';
import { Dialog, FormDialogFooter } from '../components/dialog';
import { EmptyState, ErrorNotice, LoadingBlock, Notice } from '../components/feedback';
import { Field, TextArea, TextInput } from '../components/form';
import { PageHeader } from '../components/page-header';
import { Cell, Table } from '../components/table';
import { RelativeTime } from '../components/time';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { usePermissions } from '../hooks/use-session';
import { createSecretMutation, deleteSecretMutation, rotateSecretMutation, secretsQuery } from '../lib/api/operations/settings';
import { queryKeys } from '../lib/api/query-keys';
import { blamesField, fieldErrorFor } from '../lib/field-errors';
import { appLayoutRoute } from './app-layout';

/**
 * Organization secrets (issue 8): steps read them as {{ secrets.NAME }}. Values are write-only: this
 * page sends a value when a secret is created or rotated and never receives one back.
 */

/** Create (no name given) or rotate (name given): the value field is a password field, cleared on close. */
function SecretDialog({ rotating, onClose }: { rotating?: string; onClose: () => void }) {
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const options = { invalidates: [queryKeys.secrets.all], onSuccess: onClose };
  const create = useApiMutation(createSecretMutation, options);
  const rotate = useApiMutation(rotateSecretMutation, options);
  const mutation = rotating ? rotate : create;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (rotating) rotate.mutate({ name: rotating, value });
    else create.mutate({ name: name.trim(), value });
  };
  return (
    <Dialog
      open
      onClose={onClose}
      title={rotating ? `Rotate “${rotating}”` : 'Create a secret'}
      footer={<FormDialogFooter formId="secret-form" submitLabel={rotating ? 'Rotate secret' : 'Create secret'} busy={mutation.isPending} onCancel={onClose} />}
    >
      <form id="secret-form" onSubmit={submit} className="space-y-4" autoComplete="off">
        {mutation.error && !blamesField(mutation.error, ['name', 'value']) && <ErrorNotice error={mutation.error} title={rotating ? 'The secret was not rotated' : 'The secret was not created'} />}
        {!rotating && (
          <Field label="Name" hint="Letters, digits and _; steps read it as {{ secrets.NAME }}." error={fieldErrorFor(mutation.error, 'name')}>
            {(p) => <TextInput {...p} required value={name} onChange={(e) => setName(e.target.value)} autoFocus spellCheck={false} className="font-mono" />}
          </Field>
        )}
        <Field
          label={rotating ? 'New value' : 'Value'}
          hint={rotating ? 'Runs dispatched from now on get the new value; it cannot be read back.' : 'Encrypted at rest; it cannot be read back, only rotated.'}
          error={fieldErrorFor(mutation.error, 'value')}
        >
          {(p) =>
            value.includes('\n') ? (
              <TextArea {...p} required rows={4} value={value} onChange={(e) => setValue(e.target.value)} spellCheck={false} className="font-mono" />
            ) : (
              <TextInput {...p} required type="password" value={value} onChange={(e) => setValue(e.target.value)} autoFocus={Boolean(rotating)} autoComplete="new-password" spellCheck={false} />
            )
          }
        </Field>
      </form>
    </Dialog>
  );
}

function SecretsPage() {
  const can = usePermissions();
  const [dialog, setDialog] = useState<{ rotating?: string } | undefined>();
  const [deleting, setDeleting] = useState<string>();
  const secrets = useApiQuery(queryKeys.secrets.all, secretsQuery, {}, { enabled: can.manageSecrets });
  const remove = useApiMutation(deleteSecretMutation, { invalidates: [queryKeys.secrets.all], onSuccess: () => setDeleting(undefined) });
  if (!can.manageSecrets) return <Notice tone="warning">Only admins and owners manage secrets.</Notice>;
  return (
    <>
      <PageHeader
        title="Secrets"
        description={<>Values workflow steps read as <code className="font-mono">{'{{ secrets.NAME }}'}</code>, resolved only when a task is dispatched. Values are write-only: no one can read them back.</>}
        actions={<Button variant="primary" onClick={() => setDialog({})}>Create secret</Button>}
      />
      <Card padded={false} title="Secrets">
        {secrets.isPending ? (
          <LoadingBlock />
        ) : secrets.error ? (
          <div className="p-4"><ErrorNotice error={secrets.error} onRetry={() => void secrets.refetch()} /></div>
        ) : secrets.data.secrets.length === 0 ? (
          <EmptyState title="No secrets yet">Create one for each password or API key your steps need.</EmptyState>
        ) : (
          <Table label="Secrets" head={['Name', 'Version', 'Last used', 'Updated', 'Created', '']}>
            {secrets.data.secrets.map((secret) => (
              <tr key={secret.id} data-secret={secret.name}>
                <Cell className="font-mono text-sm font-medium text-slate-900">{secret.name}</Cell>
                <Cell layout="nowrap" className="tabular-nums">v{secret.version}</Cell>
                <Cell layout="nowrap"><RelativeTime value={secret.lastUsedAt} /></Cell>
                <Cell layout="nowrap">
                  <RelativeTime value={secret.updatedAt} />
                  <span className="block text-xs text-slate-400">{secret.updatedBy}</span>
                </Cell>
                <Cell layout="nowrap">
                  <RelativeTime value={secret.createdAt} />
                  <span className="block text-xs text-slate-400">{secret.createdBy}</span>
                </Cell>
                <Cell layout="actions">
                  <div className="flex justify-end gap-2">
                    <Button size="sm" onClick={() => setDialog({ rotating: secret.name })}>Rotate</Button>
                    <Button size="sm" variant="danger" onClick={() => setDeleting(secret.name)}>Delete</Button>
                  </div>
                </Cell>
              </tr>
            ))}
          </Table>
        )}
      </Card>
      {dialog && <SecretDialog {...dialog} onClose={() => setDialog(undefined)} />}
      {deleting && (
        <ConfirmDialog
          title={`Delete “${deleting}”?`}
          confirmLabel="Delete secret"
          busy={remove.isPending}
          error={remove.error}
          onConfirm={() => remove.mutate({ name: deleting })}
          onClose={() => {
            remove.reset();
            setDeleting(undefined);
          }}
        >
          <p>Steps that still read <code className="font-mono">{`{{ secrets.${deleting} }}`}</code> fail when they are dispatched (SECRET_NOT_FOUND). The value cannot be recovered.</p>
        </ConfirmDialog>
      )}
    </>
  );
}

export const secretsRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/secrets', component: SecretsPage });
