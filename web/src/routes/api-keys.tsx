import { createRoute } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { Button } from '../components/button';
import { Card } from '../components/card';
import { CopyButton } from '../components/copy-button';
import { Dialog } from '../components/dialog';
import { EmptyState, ErrorNotice, LoadingBlock, Notice } from '../components/feedback';
import { Checkbox, Field, TextInput } from '../components/form';
import { PageHeader } from '../components/page-header';
import { StatusBadge, Tag } from '../components/status-badge';
import { Cell, Table } from '../components/table';
import { RelativeTime } from '../components/time';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { usePermissions } from '../hooks/use-session';
import { apiKeysQuery, createApiKeyMutation, revokeApiKeyMutation } from '../lib/api/operations/identity';
import { queryKeys } from '../lib/api/query-keys';
import { blamesField, fieldErrorFor } from '../lib/field-errors';
import { appLayoutRoute } from './app-layout';

function CreateKeyDialog({ scopes, onClose }: { scopes: ReadonlyArray<{ name: string; description: string }>; onClose: () => void }) {
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [expires, setExpires] = useState('');
  const [closingUncopied, setClosingUncopied] = useState(false);
  const create = useApiMutation(createApiKeyMutation, { invalidates: [queryKeys.apiKeys.all] });
  const created = create.data?.createApiKey;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const expiresAt = expires ? new Date(`${expires}T23:59:59`).toISOString() : undefined;
    create.mutate({ input: { name: name.trim(), scopes: chosen, ...(expiresAt ? { expiresAt } : {}) } });
  };
  return (
    <Dialog
      open
      onClose={onClose}
      // The secret is shown once: Escape or the close button ask first rather than lose it.
      onDismiss={created ? () => setClosingUncopied(true) : onClose}
      title={created ? 'Your new API key' : 'Create an API key'}
      footer={
        created ? (
          <Button variant="primary" onClick={onClose}>I have copied it</Button>
        ) : (
          <>
            <Button onClick={onClose}>Cancel</Button>
            <Button variant="primary" type="submit" form="create-api-key" busy={create.isPending}>Create key</Button>
          </>
        )
      }
    >
      {created ? (
        <div className="space-y-3">
          {closingUncopied ? (
            <Notice tone="warning">
              <strong>Did you copy the key?</strong> Once this closes it cannot be shown again. Copy it, then press “I have copied it”.
            </Notice>
          ) : (
            <Notice tone="warning">
              Copy the key now. Orchestra keeps only a hash of it: <strong>it will not be shown again.</strong>
            </Notice>
          )}
          <div className="flex items-center gap-2">
            <code className="min-w-0 flex-1 break-all rounded-md bg-slate-900 px-3 py-2 font-mono text-xs text-emerald-300 select-all" data-testid="api-key-secret">
              {created.key}
            </code>
            <CopyButton text={created.key} />
          </div>
          <p className="text-xs text-slate-500">
            Send it as <code className="font-mono">Authorization: Bearer &lt;key&gt;</code>. It acts for this organization only, with scopes {created.apiKey.scopes.join(', ')}.
          </p>
        </div>
      ) : (
        <form id="create-api-key" onSubmit={submit} className="space-y-4">
          {create.error && !blamesField(create.error, ['name', 'scopes', 'expiresAt']) && <ErrorNotice error={create.error} title="The key was not created" />}
          <Field label="Name" hint="Who or what uses it, e.g. “billing-service”." error={fieldErrorFor(create.error, 'name')}>
            {(p) => <TextInput {...p} required value={name} onChange={(e) => setName(e.target.value)} autoFocus />}
          </Field>
          <fieldset>
            <legend className="mb-1 text-sm font-medium text-slate-700">Scopes</legend>
            <div className="space-y-1.5">
              {scopes.map((scope) => (
                <div key={scope.name}>
                  <Checkbox
                    label={<><code className="font-mono text-xs">{scope.name}</code> <span className="text-xs text-slate-500">— {scope.description}</span></>}
                    checked={chosen.includes(scope.name)}
                    onChange={(e) => setChosen((c) => (e.target.checked ? [...c, scope.name] : c.filter((s) => s !== scope.name)))}
                  />
                </div>
              ))}
            </div>
            {fieldErrorFor(create.error, 'scopes') && <p className="mt-1 text-xs text-red-700">{fieldErrorFor(create.error, 'scopes')}</p>}
          </fieldset>
          <Field label="Expires (optional)" hint="End of that day; without a date the key lasts until revoked." error={fieldErrorFor(create.error, 'expiresAt')}>
            {(p) => <TextInput {...p} type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />}
          </Field>
        </form>
      )}
    </Dialog>
  );
}

function ApiKeysPage() {
  const can = usePermissions();
  const [includeRevoked, setIncludeRevoked] = useState(false);
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<{ id: string; name: string }>();
  const keys = useApiQuery(queryKeys.apiKeys.list({ includeRevoked }), apiKeysQuery, { first: 100, includeRevoked }, { enabled: can.manageApiKeys });
  const revoke = useApiMutation(revokeApiKeyMutation, { invalidates: [queryKeys.apiKeys.all], onSuccess: () => setRevoking(undefined) });
  if (!can.manageApiKeys) return <Notice tone="warning">Only admins and owners manage API keys.</Notice>;
  return (
    <>
      <PageHeader title="API keys" description="Keys let third parties use the public API for this organization, limited to their scopes." actions={<Button variant="primary" onClick={() => setCreating(true)} disabled={!keys.data}>Create API key</Button>} />
      <Card padded={false} actions={<Checkbox label="Show revoked" checked={includeRevoked} onChange={(e) => setIncludeRevoked(e.target.checked)} />} title="Keys">
        {keys.isPending ? (
          <LoadingBlock />
        ) : keys.error ? (
          <div className="p-4"><ErrorNotice error={keys.error} onRetry={() => void keys.refetch()} /></div>
        ) : keys.data.apiKeys.edges.length === 0 ? (
          <EmptyState title="No API keys" />
        ) : (
          <Table label="API keys" head={['Name', 'Key id', 'Scopes', 'Status', 'Last used', 'Created', '']}>
            {keys.data.apiKeys.edges.map(({ node }) => (
              <tr key={node.id} data-api-key={node.name}>
                <Cell className="font-medium text-slate-900">{node.name}</Cell>
                <Cell layout="nowrap" className="font-mono text-xs">orc_{node.id}_…</Cell>
                <Cell><div className="flex flex-wrap gap-1">{node.scopes.map((s) => <Tag key={s}>{s}</Tag>)}</div></Cell>
                <Cell layout="nowrap"><StatusBadge status={node.status} /></Cell>
                <Cell layout="nowrap"><RelativeTime value={node.lastUsedAt} /></Cell>
                <Cell layout="nowrap">
                  <RelativeTime value={node.createdAt} />
                  {node.createdBy && <span className="block text-xs text-slate-400">{node.createdBy.email}</span>}
                </Cell>
                <Cell layout="actions">
                  {node.status === 'ACTIVE' && <Button size="sm" variant="danger" onClick={() => setRevoking({ id: node.id, name: node.name })}>Revoke</Button>}
                </Cell>
              </tr>
            ))}
          </Table>
        )}
      </Card>
      {creating && keys.data && <CreateKeyDialog scopes={keys.data.apiKeyScopes} onClose={() => setCreating(false)} />}
      {revoking && (
        <Dialog
          open
          onClose={() => setRevoking(undefined)}
          title={`Revoke “${revoking.name}”?`}
          footer={
            <>
              <Button onClick={() => setRevoking(undefined)}>Cancel</Button>
              <Button variant="danger" busy={revoke.isPending} onClick={() => revoke.mutate({ id: revoking.id })}>Revoke key</Button>
            </>
          }
        >
          <p className="text-sm text-slate-600">Requests with this key are refused at once. This cannot be undone.</p>
          {revoke.error && <ErrorNotice error={revoke.error} className="mt-3" />}
        </Dialog>
      )}
    </>
  );
}

export const apiKeysRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/api-keys', component: ApiKeysPage });
