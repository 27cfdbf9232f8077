import { createRoute } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { Button } from '../components/button';
import { Card } from '../components/card';
import { ConfirmDialog } from '../components/confirm-dialog';
import { Dialog, FormDialogFooter } from '../components/dialog';
import { EmptyState, ErrorNotice, LoadingBlock } from '../components/feedback';
import { Field, SelectInput, TextInput } from '../components/form';
import { OrganizationLimitsCard } from '../components/organization-limits-card';
import { PageHeader } from '../components/page-header';
import { Cell, Table } from '../components/table';
import { RelativeTime } from '../components/time';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { usePermissions } from '../hooks/use-session';
import type { RateLimitPeriod, RateLimitsQuery } from '../lib/api/__generated__/graphql';
import { createRateLimitMutation, deleteRateLimitMutation, rateLimitsQuery, updateRateLimitMutation } from '../lib/api/operations/limits';
import { queryKeys } from '../lib/api/query-keys';
import { blamesField, fieldErrorFor } from '../lib/field-errors';
import { appLayoutRoute } from './app-layout';

/**
 * Named rate limits of the organization (issue 10): steps consume them (`rateLimits: [{ name, units }]`)
 * and wait (RATE_LIMIT) rather than go past them. Admins add, change and delete them; everyone sees
 * them with the units used in the current window. Below, for admins, the limits platform operators
 * set for the organization (read-only here).
 */

type RateLimit = RateLimitsQuery['rateLimits'][number];

const PERIODS: ReadonlyArray<[RateLimitPeriod, string]> = [
  ['SECOND', 'second'],
  ['MINUTE', 'minute'],
  ['HOUR', 'hour'],
];
const perLabel = (per: RateLimitPeriod): string => PERIODS.find(([p]) => p === per)?.[1] ?? per.toLowerCase();

/** Adds a rate limit, or changes the limit and window of one (its name stays: steps refer to it). */
function RateLimitDialog({ existing, onClose }: { existing?: RateLimit; onClose: () => void }) {
  const [name, setName] = useState(existing?.name ?? '');
  const [limit, setLimit] = useState(String(existing?.limit ?? 10));
  const [per, setPer] = useState<RateLimitPeriod>(existing?.per ?? 'SECOND');
  const options = { invalidates: [queryKeys.rateLimits.all], onSuccess: onClose };
  const create = useApiMutation(createRateLimitMutation, options);
  const update = useApiMutation(updateRateLimitMutation, options);
  const error = existing ? update.error : create.error;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const units = Number(limit);
    if (existing) update.mutate({ id: existing.id, input: { limit: units, per } });
    else create.mutate({ input: { name: name.trim(), limit: units, per } });
  };
  return (
    <Dialog
      open
      onClose={onClose}
      title={existing ? `Change rate limit “${existing.name}”` : 'Add a rate limit'}
      footer={<FormDialogFooter formId="rate-limit-form" submitLabel={existing ? 'Save' : 'Add rate limit'} busy={create.isPending || update.isPending} onCancel={onClose} />}
    >
      <form id="rate-limit-form" onSubmit={submit} className="space-y-4">
        {error && !blamesField(error, ['input.name', 'input.limit', 'input.per']) && <ErrorNotice error={error} title="The rate limit was not saved" />}
        {!existing && (
          <Field label="Name" hint="Letters, digits and _ . : - (at most 63). Steps name it: rateLimits: [{ name, units }]." error={fieldErrorFor(error, 'input.name')}>
            {(p) => <TextInput {...p} required value={name} onChange={(e) => setName(e.target.value)} autoFocus placeholder="openai" />}
          </Field>
        )}
        <div className="grid gap-4 sm:grid-cols-2">
          <Field label="Limit" hint="1 to 1,000,000 units per window." error={fieldErrorFor(error, 'input.limit')}>
            {(p) => <TextInput {...p} type="number" required value={limit} onChange={(e) => setLimit(e.target.value)} autoFocus={existing !== undefined} />}
          </Field>
          <Field label="Per" error={fieldErrorFor(error, 'input.per')}>
            {(p) => (
              <SelectInput {...p} value={per} onChange={(e) => setPer(e.target.value as RateLimitPeriod)}>
                {PERIODS.map(([value, label]) => (
                  <option key={value} value={value}>{label}</option>
                ))}
              </SelectInput>
            )}
          </Field>
        </div>
      </form>
    </Dialog>
  );
}

/** Units used in the current window against the limit, as a bar. */
function Usage({ used, limit }: { used: number; limit: number }) {
  const share = limit > 0 ? Math.min(1, used / limit) : 0;
  return (
    <div className="flex items-center gap-2">
      <div className="h-1.5 w-24 overflow-hidden rounded-full bg-slate-200" role="meter" aria-label="Used in the current window" aria-valuenow={used} aria-valuemin={0} aria-valuemax={limit}>
        <div className={`h-full rounded-full ${share >= 1 ? 'bg-red-500' : share >= 0.8 ? 'bg-amber-500' : 'bg-emerald-500'}`} style={{ width: `${share * 100}%` }} />
      </div>
      <span className="text-xs tabular-nums text-slate-600">{used.toLocaleString()} / {limit.toLocaleString()}</span>
    </div>
  );
}

function RateLimitsPage() {
  const can = usePermissions();
  const limits = useApiQuery(queryKeys.rateLimits.all, rateLimitsQuery, {}, { refetchInterval: 5_000 });
  const [editing, setEditing] = useState<RateLimit | 'new'>();
  const [deleting, setDeleting] = useState<RateLimit>();
  const remove = useApiMutation(deleteRateLimitMutation, { invalidates: [queryKeys.rateLimits.all], onSuccess: () => setDeleting(undefined) });
  const list = limits.data?.rateLimits ?? [];

  return (
    <>
      <PageHeader
        title="Rate limits"
        description="Named limits that steps consume (rateLimits: [{ name, units }]): a task waits, with the reason on its run page, rather than go past one. They hold across every orchestration process."
        actions={can.manageRateLimits ? <Button variant="primary" onClick={() => setEditing('new')}>Add rate limit</Button> : undefined}
      />
      <div className="space-y-6">
        <Card padded={false} title="Rate limits">
          {limits.isPending ? (
            <LoadingBlock />
          ) : limits.error ? (
            <div className="p-4"><ErrorNotice error={limits.error} onRetry={() => void limits.refetch()} /></div>
          ) : list.length === 0 ? (
            <EmptyState title="No rate limits">{can.manageRateLimits ? 'Add one, then name it in a step: rateLimits: [{ name: "openai", units: 1 }].' : 'Admins add rate limits.'}</EmptyState>
          ) : (
            <Table label="Rate limits" head={['Name', 'Limit', 'Used now', 'Changed', '']}>
              {list.map((r) => (
                <tr key={r.id} data-rate-limit={r.name}>
                  <Cell layout="nowrap"><code className="font-mono text-sm">{r.name}</code></Cell>
                  <Cell layout="nowrap" className="tabular-nums">{r.limit.toLocaleString()} per {perLabel(r.per)}</Cell>
                  <Cell layout="nowrap"><Usage used={r.used} limit={r.limit} /></Cell>
                  <Cell layout="nowrap" className="text-xs text-slate-500"><RelativeTime value={r.updatedAt} /> by {r.createdBy}</Cell>
                  <Cell layout="actions">
                    {can.manageRateLimits && <Button size="sm" onClick={() => setEditing(r)}>Edit</Button>}
                    {can.manageRateLimits && <Button size="sm" variant="danger" onClick={() => setDeleting(r)}>Delete</Button>}
                  </Cell>
                </tr>
              ))}
            </Table>
          )}
        </Card>
        {can.viewOrganizationLimits && <OrganizationLimitsCard />}
      </div>
      {editing && <RateLimitDialog {...(editing === 'new' ? {} : { existing: editing })} onClose={() => setEditing(undefined)} />}
      {deleting && (
        <ConfirmDialog
          title={`Delete rate limit “${deleting.name}”?`}
          confirmLabel="Delete rate limit"
          busy={remove.isPending}
          error={remove.error}
          onConfirm={() => remove.mutate({ id: deleting.id })}
          onClose={() => {
            remove.reset();
            setDeleting(undefined);
          }}
        >
          <p>A limit that a workflow's latest version uses is refused (publish a version without it first); older runs whose steps name it fail those steps.</p>
        </ConfirmDialog>
      )}
    </>
  );
}

export const rateLimitsRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/rate-limits', component: RateLimitsPage });
