import { createRoute, Link } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { Button } from '../components/button';
import { Card } from '../components/card';
import { ConfirmDialog } from '../components/confirm-dialog';
import { CopyButton } from '../components/copy-button';
import { Dialog, FormDialogFooter } from '../components/dialog';
import { EmptyState, ErrorNotice, LoadingBlock, Notice } from '../components/feedback';
import { Checkbox, Field, SelectInput, TextArea, TextInput } from '../components/form';
import { PageHeader } from '../components/page-header';
import { StatusBadge } from '../components/status-badge';
import { Cell, Table } from '../components/table';
import { RelativeTime } from '../components/time';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { usePermissions } from '../hooks/use-session';
import type { TriggersQuery } from '../lib/api/__generated__/graphql';
import { createTriggerMutation, deleteTriggerMutation, rotateTriggerSecretMutation, triggerDeliveriesQuery, triggersQuery } from '../lib/api/operations/flow';
import { queryKeys } from '../lib/api/query-keys';
import { blamesField, fieldErrorFor } from '../lib/field-errors';
import { appLayoutRoute } from './app-layout';

type Trigger = TriggersQuery['triggers'][number];

/** A webhook URL as third parties call it: the gateway's origin in front when the server gave only the path. */
const absoluteUrl = (url: string): string => (url.startsWith('/') ? `${window.location.origin}${url}` : url);

/** The webhook's signing secret, shown once (on creation and rotation). */
function SecretOnce({ secret, url }: { secret: string; url: string | null | undefined }) {
  return (
    <div className="space-y-3">
      <Notice tone="warning">
        Copy the signing secret now: <strong>it will not be shown again.</strong> Senders sign <code className="font-mono">{'<unix seconds>.<body>'}</code> with HMAC-SHA256 and send{' '}
        <code className="font-mono">x-orchestra-timestamp</code> and <code className="font-mono">x-orchestra-signature: v1=…</code> (README, “Events, triggers and inbound webhooks”).
      </Notice>
      {url && (
        <div className="flex items-center gap-2">
          <code className="min-w-0 flex-1 break-all rounded-md bg-slate-100 px-3 py-2 font-mono text-xs" data-testid="trigger-webhook-url">{absoluteUrl(url)}</code>
          <CopyButton text={absoluteUrl(url)} label="Copy URL" />
        </div>
      )}
      <div className="flex items-center gap-2">
        <code className="min-w-0 flex-1 break-all rounded-md bg-slate-900 px-3 py-2 font-mono text-xs text-emerald-300 select-all" data-testid="trigger-secret">{secret}</code>
        <CopyButton text={secret} />
      </div>
    </div>
  );
}

function CreateTriggerDialog({ workflows, onClose }: { workflows: ReadonlyArray<{ id: string; name: string }>; onClose: () => void }) {
  const [workflowId, setWorkflowId] = useState(workflows[0]?.id ?? '');
  const [eventName, setEventName] = useState('');
  const [filter, setFilter] = useState('');
  const [filterError, setFilterError] = useState<string>();
  const [webhook, setWebhook] = useState(true);
  const create = useApiMutation(createTriggerMutation, { invalidates: [queryKeys.triggers.all] });
  const created = create.data?.createTrigger;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    let parsed: unknown = null;
    if (filter.trim() !== '') {
      try {
        parsed = JSON.parse(filter);
      } catch {
        setFilterError('The filter is JSON: [{ "path": "/order/status", "equals": "paid" }]');
        return;
      }
    }
    setFilterError(undefined);
    create.mutate({ input: { workflowId, eventName: eventName.trim(), filter: parsed, webhook } });
  };
  if (created?.webhookSecret) {
    return (
      <Dialog open onClose={onClose} onDismiss={onClose} title="Trigger created" footer={<Button variant="primary" onClick={onClose}>I have copied it</Button>}>
        <SecretOnce secret={created.webhookSecret} url={created.trigger.webhookUrl} />
      </Dialog>
    );
  }
  if (created) {
    return (
      <Dialog open onClose={onClose} title="Trigger created" footer={<Button variant="primary" onClick={onClose}>Done</Button>}>
        <p className="text-sm">Every <code className="font-mono">emitEvent</code> of this name whose payload passes the filter now starts the workflow.</p>
      </Dialog>
    );
  }
  return (
    <Dialog open onClose={onClose} title="Add a trigger" footer={<FormDialogFooter formId="trigger-form" submitLabel="Add trigger" busy={create.isPending} onCancel={onClose} />}>
      <form id="trigger-form" onSubmit={submit} className="space-y-4">
        {create.error && !blamesField(create.error, ['input.workflowId', 'input.eventName', 'input.filter']) && <ErrorNotice error={create.error} title="The trigger was not added" />}
        <Field label="Workflow" error={fieldErrorFor(create.error, 'input.workflowId')}>
          {(p) => (
            <SelectInput {...p} required value={workflowId} onChange={(e) => setWorkflowId(e.target.value)}>
              {workflows.map((w) => (
                <option key={w.id} value={w.id}>{w.name}</option>
              ))}
            </SelectInput>
          )}
        </Field>
        <Field label="Event name" hint="Letters, digits and . _ : / - (order.paid)." error={fieldErrorFor(create.error, 'input.eventName')}>
          {(p) => <TextInput {...p} required value={eventName} onChange={(e) => setEventName(e.target.value)} autoFocus placeholder="order.paid" />}
        </Field>
        <Field label="Filter (optional)" hint='At most 10 conditions, all must hold: [{ "path": "/order/status", "equals": "paid" }]' error={filterError ?? fieldErrorFor(create.error, 'input.filter')}>
          {(p) => <TextArea {...p} rows={3} className="font-mono text-xs" value={filter} onChange={(e) => setFilter(e.target.value)} />}
        </Field>
        <Checkbox label="Inbound webhook: third parties POST signed events to a URL" checked={webhook} onChange={(e) => setWebhook(e.target.checked)} />
      </form>
    </Dialog>
  );
}

function Deliveries({ trigger }: { trigger: Trigger }) {
  const deliveries = useApiQuery(queryKeys.triggers.deliveries(trigger.id), triggerDeliveriesQuery, { id: trigger.id, first: 50 }, { refetchInterval: 10_000 });
  const nodes = deliveries.data?.trigger?.deliveries ?? [];
  return (
    <Card padded={false} title={<>Webhook deliveries of <code className="font-mono text-xs">{trigger.eventName}</code> → {trigger.workflow.name}</>}>
      {deliveries.isPending ? (
        <LoadingBlock />
      ) : deliveries.error ? (
        <div className="p-4"><ErrorNotice error={deliveries.error} onRetry={() => void deliveries.refetch()} /></div>
      ) : nodes.length === 0 ? (
        <EmptyState title="No deliveries yet">Requests to the webhook URL are listed here, accepted or refused.</EmptyState>
      ) : (
        <Table label="Webhook deliveries" head={['Received', 'Outcome', 'Why', 'Bytes', 'From', 'Runs']}>
          {nodes.map((d) => (
            <tr key={d.id} data-delivery={d.id}>
              <Cell layout="nowrap"><RelativeTime value={d.receivedAt} /></Cell>
              <Cell layout="nowrap"><span className={`inline-flex rounded-md px-1.5 py-0.5 text-[11px] font-semibold ring-1 ring-inset ${d.outcome === 'ACCEPTED' ? 'bg-emerald-50 text-emerald-800 ring-emerald-200' : 'bg-red-50 text-red-800 ring-red-200'}`}>{d.outcome}</span></Cell>
              <Cell className="max-w-sm">
                {d.reason && <code className="font-mono text-xs">{d.reason}</code>}
                {d.message && <span className="block text-xs text-slate-500">{d.message}</span>}
              </Cell>
              <Cell layout="nowrap" className="tabular-nums">{d.bodyBytes}</Cell>
              <Cell layout="nowrap" className="font-mono text-xs">{d.sourceIp ?? '—'}</Cell>
              <Cell>
                {d.event?.starts.map((s, i) =>
                  s.run ? (
                    <Link key={s.run.id} to="/runs/$runId" params={{ runId: s.run.id }} className="mr-2 text-indigo-700 hover:underline">
                      <StatusBadge status={s.run.status} />
                    </Link>
                  ) : (
                    <span key={i} className="block text-xs text-red-700">{s.error}</span>
                  ),
                )}
              </Cell>
            </tr>
          ))}
        </Table>
      )}
    </Card>
  );
}

function TriggersPage() {
  const can = usePermissions();
  const triggers = useApiQuery(queryKeys.triggers.all, triggersQuery, {});
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Trigger>();
  const [selected, setSelected] = useState<string>();
  const rotate = useApiMutation(rotateTriggerSecretMutation, { invalidates: [queryKeys.triggers.all] });
  const remove = useApiMutation(deleteTriggerMutation, { invalidates: [queryKeys.triggers.all] });
  const rotated = rotate.data?.rotateTriggerSecret;
  const list = triggers.data?.triggers ?? [];
  const shown = list.find((t) => t.id === selected && t.hasWebhook);
  const workflows = triggers.data?.workflows.edges.map((e) => e.node) ?? [];

  return (
    <>
      <PageHeader
        title="Triggers"
        description="Workflows started by events: emitEvent (GraphQL, the public API, gRPC) or a signed POST to a trigger's webhook URL. One idempotency key never starts a workflow twice."
        actions={can.manageTriggers && <Button variant="primary" disabled={workflows.length === 0} onClick={() => setCreating(true)}>Add trigger</Button>}
      />
      {rotate.error && <div className="mb-4"><ErrorNotice error={rotate.error} title="The secret was not rotated" /></div>}
      <Card padded={false} title="Triggers">
        {triggers.isPending ? (
          <LoadingBlock />
        ) : triggers.error ? (
          <div className="p-4"><ErrorNotice error={triggers.error} onRetry={() => void triggers.refetch()} /></div>
        ) : list.length === 0 ? (
          <EmptyState title="No triggers">A trigger starts a workflow on every event of a name (and filter).</EmptyState>
        ) : (
          <Table label="Triggers" head={['Event', 'Workflow', 'Filter', 'Webhook', 'Created', '']}>
            {list.map((t) => (
              <tr key={t.id} data-trigger={t.id}>
                <Cell layout="nowrap" className="font-mono text-xs font-semibold">{t.eventName}</Cell>
                <Cell>
                  <Link to="/workflows/$workflowId" params={{ workflowId: t.workflow.id }} className="text-indigo-700 hover:underline">{t.workflow.name}</Link>
                </Cell>
                <Cell className="max-w-xs font-mono text-[11px] text-slate-600">{Array.isArray(t.filter) && t.filter.length > 0 ? JSON.stringify(t.filter) : 'every event'}</Cell>
                <Cell className="max-w-sm">
                  {t.webhookUrl ? (
                    <span className="flex items-center gap-2">
                      <code className="min-w-0 truncate font-mono text-[11px]" title={absoluteUrl(t.webhookUrl)}>{absoluteUrl(t.webhookUrl)}</code>
                      <CopyButton text={absoluteUrl(t.webhookUrl)} label="Copy" />
                    </span>
                  ) : (
                    <span className="text-xs text-slate-400">none</span>
                  )}
                </Cell>
                <Cell layout="nowrap"><RelativeTime value={t.createdAt} /></Cell>
                <Cell layout="actions">
                  {t.hasWebhook && <Button size="sm" onClick={() => setSelected(selected === t.id ? undefined : t.id)}>{selected === t.id ? 'Hide deliveries' : 'Deliveries'}</Button>}
                  {can.manageTriggers && (
                    <Button size="sm" busy={rotate.isPending && rotate.variables.id === t.id} onClick={() => rotate.mutate({ id: t.id })}>
                      {t.hasWebhook ? 'Rotate secret' : 'Add webhook'}
                    </Button>
                  )}
                  {can.manageTriggers && <Button size="sm" variant="danger" onClick={() => { remove.reset(); setDeleting(t); }}>Delete</Button>}
                </Cell>
              </tr>
            ))}
          </Table>
        )}
      </Card>
      {shown && <div className="mt-6"><Deliveries trigger={shown} /></div>}
      {creating && <CreateTriggerDialog workflows={workflows} onClose={() => setCreating(false)} />}
      {rotated?.webhookSecret && (
        <Dialog open onClose={() => rotate.reset()} onDismiss={() => rotate.reset()} title="New webhook secret" footer={<Button variant="primary" onClick={() => rotate.reset()}>I have copied it</Button>}>
          <SecretOnce secret={rotated.webhookSecret} url={rotated.trigger.webhookUrl} />
          <p className="mt-3 text-sm text-slate-600">The previous secret no longer verifies.</p>
        </Dialog>
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete the trigger on ${deleting.eventName}?`}
          confirmLabel="Delete"
          variant="danger"
          busy={remove.isPending}
          error={remove.error}
          onConfirm={() => remove.mutate({ id: deleting.id }, { onSuccess: () => setDeleting(undefined) })}
          onClose={() => setDeleting(undefined)}
        >
          <p>Events named {deleting.eventName} stop starting {deleting.workflow.name}{deleting.hasWebhook ? '; its webhook URL answers 404 and its delivery log is deleted' : ''}. Runs it started stay.</p>
        </ConfirmDialog>
      )}
    </>
  );
}

export const triggersRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/triggers', component: TriggersPage });
