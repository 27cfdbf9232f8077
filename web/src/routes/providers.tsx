import { createRoute } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { Button } from '../components/button';
import { Card } from '../components/card';
import { ConfirmDialog } from '../components/confirm-dialog';
import { Dialog, FormDialogFooter } from '../components/dialog';
import { EmptyState, ErrorNotice, LoadingBlock } from '../components/feedback';
import { Checkbox, Field, SelectInput, TextInput } from '../components/form';
import { PageHeader } from '../components/page-header';
import { Cell, Table } from '../components/table';
import { RelativeTime } from '../components/time';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { usePermissions } from '../hooks/use-session';
import {
  createLlmProviderMutation,
  deleteLlmProviderMutation,
  llmProvidersQuery,
  providerSecretChoicesQuery,
  testLlmProviderMutation,
  updateLlmProviderMutation,
} from '../lib/api/operations/accounting';
import type { LlmProvidersQuery } from '../lib/api/__generated__/graphql';
import { ApiError } from '../lib/api/errors';
import { queryKeys } from '../lib/api/query-keys';
import { fieldErrorFor } from '../lib/field-errors';
import { formatCount, formatDuration } from '../lib/format';
import { createInputOf, emptyProviderForm, providerFormOf, updateInputOf, type FormErrors, type ProviderForm } from '../lib/provider-form';
import { formatUsd } from '../lib/usage-chart';
import { appLayoutRoute } from './app-layout';

/**
 * Model providers (issue 14): the organization's OpenAI-compatible endpoints that llm and
 * browser.agent steps name. The API key is an organization secret chosen by name: its value is never
 * shown here (nor sent: it is read when a task is dispatched).
 */

type Provider = LlmProvidersQuery['llmProviders'][number];

/** Fields the form shows the API's errors under (`input.baseUrl`, `input.models[2].alias`): then no error box above. */
const FORM_FIELD = /^(input\.)?(name|baseUrl|apiKeySecret|pricePer1MInput|pricePer1MOutput|requestsPerMinute|tokensPerMinute|timeoutMs|models\[\d+\]\.(alias|model|pricePer1MInput|pricePer1MOutput))$/;
const apiBlamesAField = (error: unknown): boolean => error instanceof ApiError && error.code === 'BAD_USER_INPUT' && error.errors.some((e) => e.field !== undefined && FORM_FIELD.test(e.field));

function ModelRows({ rows, errors, onChange }: { rows: ProviderForm['models']; errors: (field: string) => string | undefined; onChange: (rows: ProviderForm['models']) => void }) {
  const set = (i: number, patch: Partial<ProviderForm['models'][number]>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="space-y-2">
      <legend className="text-sm font-medium text-slate-700">Model aliases</legend>
      <p className="text-xs text-slate-500">The names steps use, the provider&apos;s name for each, and prices of their own (both or neither; else the provider&apos;s apply).</p>
      {rows.map((row, i) => {
        const rowError = errors(`models[${i}].alias`) ?? errors(`models[${i}].model`) ?? errors(`models[${i}].pricePer1MInput`) ?? errors(`models[${i}].pricePer1MOutput`);
        return (
          <div key={i} className="space-y-1" data-model-row={i}>
            <div className="grid grid-cols-[1fr_1fr_6rem_6rem_auto] items-center gap-2">
              <TextInput aria-label={`Alias ${i + 1}`} placeholder="alias (e.g. small)" value={row.alias} onChange={(e) => set(i, { alias: e.target.value })} spellCheck={false} className="font-mono" />
              <TextInput aria-label={`Model ${i + 1}`} placeholder="provider's model" value={row.model} onChange={(e) => set(i, { model: e.target.value })} spellCheck={false} className="font-mono" />
              <TextInput aria-label={`Alias ${i + 1} input price`} placeholder="$ in" inputMode="decimal" value={row.pricePer1MInput} onChange={(e) => set(i, { pricePer1MInput: e.target.value })} />
              <TextInput aria-label={`Alias ${i + 1} output price`} placeholder="$ out" inputMode="decimal" value={row.pricePer1MOutput} onChange={(e) => set(i, { pricePer1MOutput: e.target.value })} />
              <Button size="sm" variant="ghost" onClick={() => onChange(rows.filter((_, j) => j !== i))} aria-label={`Remove alias ${i + 1}`}>Remove</Button>
            </div>
            {rowError && <p className="text-xs text-red-700" role="alert">{rowError}</p>}
          </div>
        );
      })}
      <Button size="sm" onClick={() => onChange([...rows, { alias: '', model: '', pricePer1MInput: '', pricePer1MOutput: '' }])}>Add alias</Button>
    </fieldset>
  );
}

function ProviderDialog({ editing, onClose }: { editing?: Provider; onClose: () => void }) {
  const [form, setForm] = useState<ProviderForm>(() => (editing ? providerFormOf(editing) : emptyProviderForm()));
  const [localErrors, setLocalErrors] = useState<FormErrors>({});
  const secrets = useApiQuery(queryKeys.llmProviders.secretChoices, providerSecretChoicesQuery, {});
  const options = { invalidates: [queryKeys.llmProviders.all], onSuccess: onClose };
  const create = useApiMutation(createLlmProviderMutation, options);
  const update = useApiMutation(updateLlmProviderMutation, options);
  const mutation = editing ? update : create;
  const set = (patch: Partial<ProviderForm>) => setForm((f) => ({ ...f, ...patch }));
  /** What is wrong with a field: the form's own check first, then the API's answer. */
  const errorOf = (field: string): string | undefined => localErrors[field] ?? (mutation.error ? fieldErrorFor(mutation.error, field) : undefined);
  const blamedByApi = apiBlamesAField(mutation.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    mutation.reset();
    if (editing) {
      const parsed = updateInputOf(form);
      setLocalErrors('errors' in parsed ? parsed.errors : {});
      if (!('errors' in parsed)) update.mutate({ id: editing.id, input: parsed.input });
    } else {
      const parsed = createInputOf(form);
      setLocalErrors('errors' in parsed ? parsed.errors : {});
      if (!('errors' in parsed)) create.mutate({ input: parsed.input });
    }
  };

  const secretNames = secrets.data?.secrets.map((s) => s.name) ?? [];
  const known = form.apiKeySecret === '' || secretNames.includes(form.apiKeySecret);
  return (
    <Dialog
      open
      wide
      onClose={onClose}
      title={editing ? `Edit “${editing.name}”` : 'Add a model provider'}
      footer={<FormDialogFooter formId="provider-form" submitLabel={editing ? 'Save provider' : 'Add provider'} busy={mutation.isPending} onCancel={onClose} />}
    >
      <form id="provider-form" onSubmit={submit} className="space-y-4" autoComplete="off" noValidate>
        {mutation.error && !blamedByApi && <ErrorNotice error={mutation.error} title={editing ? 'The provider was not saved' : 'The provider was not added'} />}
        <div className="grid gap-4 sm:grid-cols-2">
          <Field label="Name" hint={editing ? 'Steps name it, so it does not change.' : 'Lowercase letters, digits, _ . - (steps name it: provider: "openai").'} error={errorOf('name')}>
            {(p) => <TextInput {...p} value={form.name} disabled={Boolean(editing)} onChange={(e) => set({ name: e.target.value })} autoFocus={!editing} spellCheck={false} className="font-mono" />}
          </Field>
          <Field label="Base URL" hint="An OpenAI-compatible endpoint, e.g. https://api.openai.com/v1" error={errorOf('baseUrl')}>
            {(p) => <TextInput {...p} type="url" value={form.baseUrl} onChange={(e) => set({ baseUrl: e.target.value })} spellCheck={false} className="font-mono" />}
          </Field>
          <Field label="API key" hint="An organization secret holding the key; its value is never shown." error={errorOf('apiKeySecret')}>
            {(p) => (
              <SelectInput {...p} value={form.apiKeySecret} onChange={(e) => set({ apiKeySecret: e.target.value })}>
                <option value="">No key needed</option>
                {!known && <option value={form.apiKeySecret}>{form.apiKeySecret} (no such secret)</option>}
                {secretNames.map((name) => <option key={name} value={name}>{name}</option>)}
              </SelectInput>
            )}
          </Field>
          <div className="flex items-end pb-2">
            <Checkbox label="Served on the workers' own machines" checked={form.workerLocal} onChange={(e) => set({ workerLocal: e.target.checked })} />
          </div>
          <Field label="Input price (US$ per 1M tokens)" error={errorOf('pricePer1MInput')}>
            {(p) => <TextInput {...p} inputMode="decimal" placeholder="0" value={form.pricePer1MInput} onChange={(e) => set({ pricePer1MInput: e.target.value })} />}
          </Field>
          <Field label="Output price (US$ per 1M tokens)" error={errorOf('pricePer1MOutput')}>
            {(p) => <TextInput {...p} inputMode="decimal" placeholder="0" value={form.pricePer1MOutput} onChange={(e) => set({ pricePer1MOutput: e.target.value })} />}
          </Field>
          <Field label="Requests per minute" hint="Empty: no limit." error={errorOf('requestsPerMinute')}>
            {(p) => <TextInput {...p} inputMode="numeric" value={form.requestsPerMinute} onChange={(e) => set({ requestsPerMinute: e.target.value })} />}
          </Field>
          <Field label="Tokens per minute" hint="Empty: no limit." error={errorOf('tokensPerMinute')}>
            {(p) => <TextInput {...p} inputMode="numeric" value={form.tokensPerMinute} onChange={(e) => set({ tokensPerMinute: e.target.value })} />}
          </Field>
          <Field label="Timeout (ms)" hint="Longest wait for the first token and between chunks. Empty: the worker's default." error={errorOf('timeoutMs')}>
            {(p) => <TextInput {...p} inputMode="numeric" value={form.timeoutMs} onChange={(e) => set({ timeoutMs: e.target.value })} />}
          </Field>
        </div>
        <ModelRows rows={form.models} errors={errorOf} onChange={(models) => set({ models })} />
      </form>
    </Dialog>
  );
}

function TestResult({ provider }: { provider: Provider }) {
  const test = useApiMutation(testLlmProviderMutation);
  return (
    <div className="flex flex-col items-end gap-1">
      <Button size="sm" busy={test.isPending} onClick={() => test.mutate({ id: provider.id })}>Test connection</Button>
      {test.error && <span role="alert" className="max-w-64 text-right text-xs text-red-700">{test.error.message}</span>}
      {test.data && (
        <span role="status" className={`max-w-64 text-right text-xs ${test.data.testLlmProvider.ok ? 'text-emerald-700' : 'text-red-700'}`}>
          {test.data.testLlmProvider.ok
            ? `Answered (${test.data.testLlmProvider.model ?? 'model'}, ${formatDuration(test.data.testLlmProvider.latencyMs)})`
            : `Failed: ${test.data.testLlmProvider.message ?? 'no answer'}`}
        </span>
      )}
    </div>
  );
}

function ProvidersPage() {
  const can = usePermissions();
  const [dialog, setDialog] = useState<{ editing?: Provider } | undefined>();
  const [deleting, setDeleting] = useState<Provider>();
  const providers = useApiQuery(queryKeys.llmProviders.all, llmProvidersQuery, {});
  const remove = useApiMutation(deleteLlmProviderMutation, { invalidates: [queryKeys.llmProviders.all], onSuccess: () => setDeleting(undefined) });
  return (
    <>
      <PageHeader
        title="Model providers"
        description="OpenAI-compatible endpoints that llm and browser.agent steps name: hosted APIs, or vLLM/Ollama on your GPU workers. Prices set here price every request's tokens."
        actions={can.manageLlmProviders ? <Button variant="primary" onClick={() => setDialog({})}>Add provider</Button> : undefined}
      />
      <Card padded={false} title="Providers">
        {providers.isPending ? (
          <LoadingBlock />
        ) : providers.error ? (
          <div className="p-4"><ErrorNotice error={providers.error} onRetry={() => void providers.refetch()} /></div>
        ) : providers.data.llmProviders.length === 0 ? (
          <EmptyState title="No model providers yet">Add one for each endpoint your llm steps call.</EmptyState>
        ) : (
          <Table label="Model providers" head={['Name', 'Endpoint', 'API key', 'Models', 'Prices per 1M (in / out)', 'Limits', 'Updated', '']}>
            {providers.data.llmProviders.map((p) => (
              <tr key={p.id} data-provider={p.name}>
                <Cell className="font-mono text-sm font-medium text-slate-900">
                  {p.name}
                  {p.workerLocal && <span className="ml-2 rounded bg-slate-100 px-1.5 py-0.5 font-sans text-[11px] text-slate-600">worker-local</span>}
                </Cell>
                <Cell className="font-mono text-xs">{p.baseUrl}</Cell>
                <Cell layout="nowrap" className="font-mono text-xs">{p.apiKeySecret ?? <span className="font-sans text-slate-400">none</span>}</Cell>
                <Cell className="text-xs">
                  {p.models.length === 0 ? <span className="text-slate-400">any</span> : p.models.map((m) => <span key={m.alias} className="mr-1.5 inline-block font-mono" title={m.model}>{m.alias}</span>)}
                </Cell>
                <Cell layout="nowrap" className="tabular-nums">{formatUsd(p.pricePer1MInput)} / {formatUsd(p.pricePer1MOutput)}</Cell>
                <Cell layout="nowrap" className="text-xs tabular-nums">
                  {p.requestsPerMinute === null && p.tokensPerMinute === null ? (
                    <span className="text-slate-400">none</span>
                  ) : (
                    <>
                      {p.requestsPerMinute !== null && <span className="block">{formatCount(p.requestsPerMinute ?? 0)} req/min</span>}
                      {p.tokensPerMinute !== null && <span className="block">{formatCount(p.tokensPerMinute ?? 0)} tokens/min</span>}
                    </>
                  )}
                </Cell>
                <Cell layout="nowrap">
                  <RelativeTime value={p.updatedAt} />
                  <span className="block text-xs text-slate-400">{p.updatedBy}</span>
                </Cell>
                <Cell layout="actions">
                  {can.manageLlmProviders && (
                    <div className="flex items-start justify-end gap-2">
                      <TestResult provider={p} />
                      <Button size="sm" onClick={() => setDialog({ editing: p })}>Edit</Button>
                      <Button size="sm" variant="danger" onClick={() => setDeleting(p)}>Delete</Button>
                    </div>
                  )}
                </Cell>
              </tr>
            ))}
          </Table>
        )}
      </Card>
      {dialog && <ProviderDialog {...dialog} onClose={() => setDialog(undefined)} />}
      {deleting && (
        <ConfirmDialog
          title={`Delete “${deleting.name}”?`}
          confirmLabel="Delete provider"
          busy={remove.isPending}
          error={remove.error}
          onConfirm={() => remove.mutate({ id: deleting.id })}
          onClose={() => {
            remove.reset();
            setDeleting(undefined);
          }}
        >
          <p>Steps that still name <code className="font-mono">{deleting.name}</code> fail when they are dispatched (UNKNOWN_PROVIDER). Usage already recorded stays.</p>
        </ConfirmDialog>
      )}
    </>
  );
}

export const providersRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/providers', component: ProvidersPage });
