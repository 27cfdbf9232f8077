import { createRoute } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { Button } from '../components/button';
import { Card } from '../components/card';
import { ConfirmDialog } from '../components/confirm-dialog';
import { CopyButton } from '../components/copy-button';
import { Dialog, FormDialogFooter } from '../components/dialog';
import { EmptyState, ErrorNotice, LoadingBlock, Notice } from '../components/feedback';
import { Checkbox, Field, TextInput } from '../components/form';
import { PageHeader } from '../components/page-header';
import { StatusBadge, Tag } from '../components/status-badge';
import { Cell, Table } from '../components/table';
import { RelativeTime } from '../components/time';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { usePermissions } from '../hooks/use-session';
import type { WebhookEndpointsQuery } from '../lib/api/__generated__/graphql';
import {
  createWebhookEndpointMutation,
  deleteWebhookEndpointMutation,
  redeliverWebhookMutation,
  rotateWebhookSecretMutation,
  updateWebhookEndpointMutation,
  webhookDeliveriesQuery,
  webhookEndpointsQuery,
} from '../lib/api/operations/settings';
import { queryKeys } from '../lib/api/query-keys';
import { blamesField, fieldErrorFor } from '../lib/field-errors';
import { appLayoutRoute } from './app-layout';

type Endpoint = WebhookEndpointsQuery['webhookEndpoints'][number];
type EventType = WebhookEndpointsQuery['notificationEventTypes'][number];

/** The signing secret, shown once (on creation and rotation). */
function SecretOnce({ secret }: { secret: string }) {
  return (
    <div className="space-y-3">
      <Notice tone="warning">Copy the signing secret now: <strong>it will not be shown again.</strong> Verify each delivery's <code className="font-mono">webhook-signature</code> with it (README, “Webhooks”).</Notice>
      <div className="flex items-center gap-2">
        <code className="min-w-0 flex-1 break-all rounded-md bg-slate-900 px-3 py-2 font-mono text-xs text-emerald-300 select-all" data-testid="webhook-secret">{secret}</code>
        <CopyButton text={secret} />
      </div>
    </div>
  );
}

function EndpointDialog({ endpoint, eventTypes, onClose }: { endpoint?: Endpoint; eventTypes: readonly EventType[]; onClose: () => void }) {
  const [url, setUrl] = useState(endpoint?.url ?? '');
  const [description, setDescription] = useState(endpoint?.description ?? '');
  const [events, setEvents] = useState<string[]>(endpoint?.events ?? []);
  const invalidates = [queryKeys.webhooks.all];
  const create = useApiMutation(createWebhookEndpointMutation, { invalidates });
  const update = useApiMutation(updateWebhookEndpointMutation, { invalidates, onSuccess: onClose });
  const mutation = endpoint ? update : create;
  const secret = create.data?.createWebhookEndpoint.secret;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const input = { url: url.trim(), events, description: description.trim() };
    if (endpoint) update.mutate({ id: endpoint.id, input });
    else create.mutate({ input });
  };
  if (secret) {
    return (
      <Dialog open onClose={onClose} onDismiss={onClose} title="Endpoint created" footer={<Button variant="primary" onClick={onClose}>I have copied it</Button>}>
        <SecretOnce secret={secret} />
      </Dialog>
    );
  }
  return (
    <Dialog open onClose={onClose} title={endpoint ? 'Edit endpoint' : 'Add a webhook endpoint'} footer={<FormDialogFooter formId="webhook-form" submitLabel={endpoint ? 'Save' : 'Add endpoint'} busy={mutation.isPending} onCancel={onClose} />}>
      <form id="webhook-form" onSubmit={submit} className="space-y-4">
        {mutation.error && !blamesField(mutation.error, ['url', 'events', 'description']) && <ErrorNotice error={mutation.error} title="The endpoint was not saved" />}
        <Field label="URL" hint="HTTPS, reachable from the internet (private and loopback addresses are refused)." error={fieldErrorFor(mutation.error, 'url')}>
          {(p) => <TextInput {...p} required type="url" value={url} onChange={(e) => setUrl(e.target.value)} autoFocus placeholder="https://example.com/orchestra-webhooks" />}
        </Field>
        <Field label="Description (optional)" error={fieldErrorFor(mutation.error, 'description')}>
          {(p) => <TextInput {...p} value={description} onChange={(e) => setDescription(e.target.value)} />}
        </Field>
        <fieldset>
          <legend className="mb-1 text-sm font-medium text-slate-700">Events</legend>
          <div className="space-y-1.5">
            {eventTypes.map((t) => (
              <div key={t.type}>
                <Checkbox
                  label={<><code className="font-mono text-xs">{t.type}</code> <span className="text-xs text-slate-500">— {t.label}</span></>}
                  checked={events.includes(t.type)}
                  onChange={(e) => setEvents((c) => (e.target.checked ? [...c, t.type] : c.filter((x) => x !== t.type)))}
                />
              </div>
            ))}
          </div>
          {fieldErrorFor(mutation.error, 'events') && <p className="mt-1 text-xs text-red-700">{fieldErrorFor(mutation.error, 'events')}</p>}
        </fieldset>
      </form>
    </Dialog>
  );
}

function Deliveries({ endpoint }: { endpoint: Endpoint }) {
  const deliveries = useApiQuery(queryKeys.webhooks.deliveries(endpoint.id), webhookDeliveriesQuery, { id: endpoint.id, first: 50 }, { refetchInterval: 10_000 });
  const redeliver = useApiMutation(redeliverWebhookMutation, { invalidates: [queryKeys.webhooks.deliveries(endpoint.id)] });
  const nodes = deliveries.data?.webhookEndpoint?.deliveries.nodes ?? [];
  return (
    <Card padded={false} title={<>Deliveries to <span className="font-mono text-xs">{endpoint.url}</span></>}>
      {redeliver.error && <div className="p-4"><ErrorNotice error={redeliver.error} title="Not redelivered" /></div>}
      {deliveries.isPending ? (
        <LoadingBlock />
      ) : deliveries.error ? (
        <div className="p-4"><ErrorNotice error={deliveries.error} onRetry={() => void deliveries.refetch()} /></div>
      ) : nodes.length === 0 ? (
        <EmptyState title="No deliveries yet" />
      ) : (
        <Table label={`Deliveries to ${endpoint.url}`} head={['Event', 'Status', 'Attempts', 'Last answer', 'Created', '']}>
          {nodes.map((d) => (
            <tr key={d.id} data-delivery={d.id}>
              <Cell>
                <code className="font-mono text-xs">{d.eventType}</code>
                <span className="block font-mono text-[11px] text-slate-400" title="webhook-id">{d.eventId}</span>
                {d.redeliveryOf && <span className="block text-[11px] text-slate-400">redelivery</span>}
              </Cell>
              <Cell layout="nowrap">
                <StatusBadge status={d.status} />
                {d.status === 'PENDING' && d.nextAttemptAt && <span className="block text-xs text-slate-400">next <RelativeTime value={d.nextAttemptAt} /></span>}
              </Cell>
              <Cell layout="nowrap" className="tabular-nums">{d.attempts}</Cell>
              <Cell className="max-w-xs">
                <span className="tabular-nums">{d.lastStatusCode ?? '—'}</span>
                {d.lastLatencyMs !== null && d.lastLatencyMs !== undefined && <span className="text-xs text-slate-400"> · {d.lastLatencyMs} ms</span>}
                {d.lastError && <span className="block break-words text-xs text-red-700">{d.lastError}</span>}
                {d.lastResponseExcerpt && <code className="block truncate font-mono text-[11px] text-slate-500" title={d.lastResponseExcerpt}>{d.lastResponseExcerpt}</code>}
              </Cell>
              <Cell layout="nowrap"><RelativeTime value={d.createdAt} /></Cell>
              <Cell layout="actions">
                <Button size="sm" busy={redeliver.isPending && redeliver.variables.deliveryId === d.id} onClick={() => redeliver.mutate({ deliveryId: d.id })}>Redeliver</Button>
              </Cell>
            </tr>
          ))}
        </Table>
      )}
    </Card>
  );
}

function WebhooksPage() {
  const can = usePermissions();
  const [editing, setEditing] = useState<{ endpoint?: Endpoint }>();
  const [deleting, setDeleting] = useState<Endpoint>();
  const [rotating, setRotating] = useState<Endpoint>();
  const [selected, setSelected] = useState<string>();
  const endpoints = useApiQuery(queryKeys.webhooks.endpoints, webhookEndpointsQuery, {}, { enabled: can.manageWebhooks });
  const invalidates = [queryKeys.webhooks.all];
  const remove = useApiMutation(deleteWebhookEndpointMutation, { invalidates, onSuccess: () => setDeleting(undefined) });
  const rotate = useApiMutation(rotateWebhookSecretMutation, { invalidates });
  const toggle = useApiMutation(updateWebhookEndpointMutation, { invalidates });
  if (!can.manageWebhooks) return <Notice tone="warning">Only admins and owners manage webhooks.</Notice>;
  const list = endpoints.data?.webhookEndpoints ?? [];
  const shown = list.find((e) => e.id === selected);
  return (
    <>
      <PageHeader
        title="Webhooks"
        description="Orchestra POSTs the events you choose to your endpoints, signed per Standard Webhooks, retrying with backoff for up to a day."
        actions={<Button variant="primary" onClick={() => setEditing({})} disabled={!endpoints.data}>Add endpoint</Button>}
      />
      {toggle.error && <ErrorNotice error={toggle.error} className="mb-4" />}
      <Card padded={false} title="Endpoints">
        {endpoints.isPending ? (
          <LoadingBlock />
        ) : endpoints.error ? (
          <div className="p-4"><ErrorNotice error={endpoints.error} onRetry={() => void endpoints.refetch()} /></div>
        ) : list.length === 0 ? (
          <EmptyState title="No endpoints" />
        ) : (
          <Table label="Webhook endpoints" head={['URL', 'Events', 'State', 'Secret', '']}>
            {list.map((e) => (
              <tr key={e.id} data-endpoint={e.url} className={e.id === selected ? 'bg-indigo-50/50' : ''}>
                <Cell className="max-w-xs">
                  <span className="block break-all font-mono text-xs text-slate-900">{e.url}</span>
                  {e.description && <span className="block text-xs text-slate-500">{e.description}</span>}
                </Cell>
                <Cell><div className="flex flex-wrap gap-1">{e.events.map((ev) => <Tag key={ev}>{ev}</Tag>)}</div></Cell>
                <Cell layout="nowrap">
                  <StatusBadge status={e.enabled ? 'ACTIVE' : 'DISABLED'} />
                  {e.disabledReason && <span className="block max-w-[14rem] whitespace-normal text-xs text-red-700">{e.disabledReason}</span>}
                </Cell>
                <Cell layout="nowrap" className="text-xs text-slate-500">
                  {e.secretRotatedAt ? <>rotated <RelativeTime value={e.secretRotatedAt} /></> : <>since <RelativeTime value={e.createdAt} /></>}
                  {e.previousSecretExpiresAt && <span className="block">old one signs until <RelativeTime value={e.previousSecretExpiresAt} /></span>}
                </Cell>
                <Cell layout="actions">
                  <div className="flex flex-wrap justify-end gap-1.5">
                    <Button size="sm" onClick={() => setSelected(e.id === selected ? undefined : e.id)}>{e.id === selected ? 'Hide deliveries' : 'Deliveries'}</Button>
                    <Button size="sm" onClick={() => setEditing({ endpoint: e })}>Edit</Button>
                    <Button size="sm" onClick={() => toggle.mutate({ id: e.id, input: { enabled: !e.enabled } })}>{e.enabled ? 'Disable' : 'Enable'}</Button>
                    <Button size="sm" onClick={() => { rotate.reset(); setRotating(e); }}>Rotate secret</Button>
                    <Button size="sm" variant="danger" onClick={() => setDeleting(e)}>Delete</Button>
                  </div>
                </Cell>
              </tr>
            ))}
          </Table>
        )}
      </Card>
      {shown && <div className="mt-6"><Deliveries endpoint={shown} /></div>}
      {editing && endpoints.data && <EndpointDialog {...editing} eventTypes={endpoints.data.notificationEventTypes} onClose={() => setEditing(undefined)} />}
      {deleting && (
        <ConfirmDialog title="Delete this endpoint?" confirmLabel="Delete endpoint" busy={remove.isPending} error={remove.error} onConfirm={() => remove.mutate({ id: deleting.id })} onClose={() => { remove.reset(); setDeleting(undefined); }}>
          <p>No more deliveries go to <code className="break-all font-mono">{deleting.url}</code>, and its delivery log is deleted with it.</p>
        </ConfirmDialog>
      )}
      {rotating && (
        rotate.data ? (
          <Dialog open onClose={() => setRotating(undefined)} title="New signing secret" footer={<Button variant="primary" onClick={() => setRotating(undefined)}>I have copied it</Button>}>
            <SecretOnce secret={rotate.data.rotateWebhookSecret.secret} />
            <p className="mt-3 text-xs text-slate-500">The previous secret keeps signing (a second signature) until <RelativeTime value={rotate.data.rotateWebhookSecret.endpoint.previousSecretExpiresAt} />.</p>
          </Dialog>
        ) : (
          <ConfirmDialog title="Rotate the signing secret?" confirmLabel="Rotate secret" variant="primary" busy={rotate.isPending} error={rotate.error} onConfirm={() => rotate.mutate({ id: rotating.id })} onClose={() => setRotating(undefined)}>
            <p>Deliveries are signed with a new secret, and with the old one too for an overlap window, so you can switch your receiver over.</p>
          </ConfirmDialog>
        )
      )}
    </>
  );
}

export const webhooksRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/webhooks', component: WebhooksPage });
