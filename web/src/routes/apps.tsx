import { createRoute, Link, useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { Button } from '../components/button';
import { Card } from '../components/card';
import { Dialog, FormDialogFooter } from '../components/dialog';
import { EmptyState, ErrorNotice, LoadingBlock } from '../components/feedback';
import { Checkbox, Field, TextArea, TextInput } from '../components/form';
import { PageHeader } from '../components/page-header';
import { Pagination } from '../components/pagination';
import { StatusBadge, Tag } from '../components/status-badge';
import { Cell, Table } from '../components/table';
import { RelativeTime } from '../components/time';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { useCursorPages } from '../hooks/use-cursor-pages';
import { useDebouncedValue } from '../hooks/use-debounced-value';
import { usePermissions } from '../hooks/use-session';
import { appsQuery, createAppMutation } from '../lib/api/operations/apps';
import { queryKeys } from '../lib/api/query-keys';
import { fieldErrorFor } from '../lib/field-errors';
import { formatPercent, plural, slugify } from '../lib/format';
import { parseJsonText } from '../lib/step-errors';
import { appLayoutRoute } from './app-layout';

function CreateAppDialog({ onClose }: { onClose: () => void }) {
  const navigate = useNavigate();
  const [form, setForm] = useState({ name: '', slug: '', description: '', tags: '', healthCheckUrl: '', configSchema: '' });
  const [schemaProblem, setSchemaProblem] = useState<string>();
  // The slug follows the name until the user types one of their own.
  const [slugEdited, setSlugEdited] = useState(false);
  const create = useApiMutation(createAppMutation, {
    invalidates: [queryKeys.apps.all],
    onSuccess: ({ createApp }) => {
      onClose();
      void navigate({ to: '/apps/$appId', params: { appId: createApp.id } });
    },
  });
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [key]: e.target.value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    let configSchema: unknown;
    if (form.configSchema.trim()) {
      const parsed = parseJsonText(form.configSchema);
      if (!parsed.ok) {
        setSchemaProblem(`Not valid JSON: ${parsed.problem.message}`);
        return;
      }
      configSchema = parsed.value;
    }
    setSchemaProblem(undefined);
    const tags = form.tags.split(',').map((t) => t.trim()).filter(Boolean);
    create.mutate({
      input: {
        name: form.name.trim(),
        slug: form.slug.trim(),
        ...(form.description.trim() ? { description: form.description.trim() } : {}),
        ...(tags.length > 0 ? { tags } : {}),
        ...(form.healthCheckUrl.trim() ? { healthCheckUrl: form.healthCheckUrl.trim() } : {}),
        ...(configSchema !== undefined ? { configSchema } : {}),
      },
    });
  };
  const err = (name: string) => fieldErrorFor(create.error, name);
  return (
    <Dialog
      open
      onClose={onClose}
      title="Register an app"
      wide
      footer={<FormDialogFooter formId="create-app" submitLabel="Register app" busy={create.isPending} onCancel={onClose} />}
    >
      <form id="create-app" onSubmit={submit} className="grid grid-cols-1 gap-4 sm:grid-cols-2">
        {create.error && !['name', 'slug', 'description', 'tags', 'healthCheckUrl', 'configSchema'].some((f) => err(f)) && (
          <div className="sm:col-span-2">
            <ErrorNotice error={create.error} />
          </div>
        )}
        <Field label="Name" error={err('name')}>{(p) => <TextInput {...p} required value={form.name} onChange={(e) => setForm((f) => ({ ...f, name: e.target.value, ...(slugEdited ? {} : { slug: slugify(e.target.value) }) }))} autoFocus />}</Field>
        <Field label="Slug" hint="Lowercase letters, digits and hyphens; unique here." error={err('slug')}>{(p) => <TextInput {...p} required value={form.slug} onChange={(e) => { setSlugEdited(e.target.value !== ''); set('slug')(e); }} className="font-mono" />}</Field>
        <Field label="Description" className="sm:col-span-2" error={err('description')}>{(p) => <TextInput {...p} value={form.description} onChange={set('description')} />}</Field>
        <Field label="Tags" hint="Comma separated." error={err('tags')}>{(p) => <TextInput {...p} value={form.tags} onChange={set('tags')} />}</Field>
        <Field label="Health-check URL" hint="Probed on an interval when set." error={err('healthCheckUrl')}>{(p) => <TextInput {...p} type="url" value={form.healthCheckUrl} onChange={set('healthCheckUrl')} />}</Field>
        <Field label="Config JSON Schema (optional)" className="sm:col-span-2" hint="Configs are validated against it; without one, any JSON object." error={schemaProblem ?? err('configSchema')}>
          {(p) => <TextArea {...p} rows={6} value={form.configSchema} onChange={set('configSchema')} />}
        </Field>
      </form>
    </Dialog>
  );
}

function AppsPage() {
  const can = usePermissions();
  const [search, setSearch] = useState('');
  const [showArchived, setShowArchived] = useState(false);
  const [creating, setCreating] = useState(false);
  const status = showArchived ? ['ACTIVE', 'PAUSED', 'ARCHIVED'] as const : [];
  const searched = useDebouncedValue(search.trim());
  const pages = useCursorPages(`${searched}|${showArchived}`);
  const apps = useApiQuery(
    queryKeys.apps.list({ search: searched, status: [...status], after: pages.after }),
    appsQuery,
    { first: 25, after: pages.after ?? null, filter: { ...(searched ? { search: searched } : {}), ...(status.length > 0 ? { status: [...status] } : {}) } },
    { placeholderData: (p) => p },
  );
  return (
    <>
      <PageHeader title="Apps" description="The AI applications this organization runs: configuration versions, health and usage." actions={can.manageApps && <Button variant="primary" onClick={() => setCreating(true)}>Register app</Button>} />
      <Card padded={false}>
        <div className="flex flex-wrap items-center gap-4 border-b border-slate-100 p-4">
          <label htmlFor="app-search" className="sr-only">Search apps</label>
          <TextInput id="app-search" type="search" placeholder="Search name, slug, description…" value={search} onChange={(e) => setSearch(e.target.value)} className="max-w-sm" />
          <Checkbox label="Show archived" checked={showArchived} onChange={(e) => setShowArchived(e.target.checked)} />
        </div>
        {apps.isPending ? (
          <LoadingBlock />
        ) : apps.error ? (
          <div className="p-4"><ErrorNotice error={apps.error} onRetry={() => void apps.refetch()} /></div>
        ) : apps.data.apps.edges.length === 0 ? (
          <EmptyState title="No apps">Register an app to track its configuration, health and runs.</EmptyState>
        ) : (
          <>
            <Table label="Apps" head={['App', 'Status', 'Health', 'Uptime 24 h', 'Tags', 'Updated']}>
              {apps.data.apps.edges.map(({ node }) => (
                <tr key={node.id} className="hover:bg-slate-50/70">
                  <Cell>
                    <Link to="/apps/$appId" params={{ appId: node.id }} className="font-medium text-slate-900 hover:text-indigo-700">{node.name}</Link>
                    <p className="font-mono text-xs text-slate-400">{node.slug}</p>
                  </Cell>
                  <Cell layout="nowrap"><StatusBadge status={node.status} /></Cell>
                  <Cell layout="nowrap">{node.health ? <StatusBadge status={node.health.status} /> : <span className="text-xs text-slate-400">not monitored</span>}</Cell>
                  <Cell layout="nowrap" className="tabular-nums">{formatPercent(node.health?.uptime.ratio)}</Cell>
                  <Cell><div className="flex flex-wrap gap-1">{node.tags.map((t) => <Tag key={t}>{t}</Tag>)}</div></Cell>
                  <Cell layout="nowrap"><RelativeTime value={node.updatedAt} /></Cell>
                </tr>
              ))}
            </Table>
            <Pagination hasPrevious={pages.hasPrevious} hasNext={apps.data.apps.pageInfo.hasNextPage} onPrevious={pages.previous} onNext={() => pages.next(apps.data.apps.pageInfo.endCursor)} summary={plural(apps.data.apps.totalCount, 'app')} />
          </>
        )}
      </Card>
      {creating && <CreateAppDialog onClose={() => setCreating(false)} />}
    </>
  );
}

export const appsRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/apps', component: AppsPage });
