import { createRoute, Link } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { Button } from '../components/button';
import { Card, Details, Stat } from '../components/card';
import { RunMetricsPanel } from '../components/charts/run-metrics-panel';
import { ConfirmDialog } from '../components/confirm-dialog';
import { Dialog, FormDialogFooter } from '../components/dialog';
import { EditAppDialog } from '../components/edit-app-dialog';
import { EmptyState, ErrorNotice, LoadingBlock } from '../components/feedback';
import { Field, TextArea, TextInput } from '../components/form';
import { JsonBlock } from '../components/json-block';
import { PageHeader } from '../components/page-header';
import { StatusBadge, Tag } from '../components/status-badge';
import { Cell, Table } from '../components/table';
import { ExactTime, RelativeTime } from '../components/time';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { usePermissions } from '../hooks/use-session';
import { appQuery, archiveAppMutation, pauseAppMutation, publishAppConfigMutation, restoreAppMutation, resumeAppMutation, rollbackAppConfigMutation } from '../lib/api/operations/apps';
import { isNotFound } from '../lib/api/errors';
import { queryKeys } from '../lib/api/query-keys';
import { formatDuration, formatJson, formatPercent } from '../lib/format';
import { configViolationsOf } from '../lib/field-errors';
import { parseJsonText } from '../lib/step-errors';
import { appLayoutRoute } from './app-layout';
import { EmailText } from '../components/email-text';

function UptimeBar({ up, down, unknown }: { up: number; down: number; unknown: number }) {
  const total = up + down + unknown || 1;
  return (
    <div className="flex h-2.5 w-full overflow-hidden rounded-full bg-slate-100" aria-hidden="true">
      <div className="bg-emerald-500" style={{ width: `${(up / total) * 100}%` }} />
      <div className="bg-red-500" style={{ width: `${(down / total) * 100}%` }} />
      <div className="bg-slate-300" style={{ width: `${(unknown / total) * 100}%` }} />
    </div>
  );
}

function PublishConfigDialog({ appId, current, onClose }: { appId: string; current: unknown; onClose: () => void }) {
  const [text, setText] = useState(() => formatJson(current ?? {}));
  const [message, setMessage] = useState('');
  const [problem, setProblem] = useState<string>();
  const publish = useApiMutation(publishAppConfigMutation, { invalidates: [queryKeys.apps.detail(appId)], onSuccess: onClose });
  const violations = configViolationsOf(publish.error);
  // A refusal is about what was sent: once the text changes it no longer applies.
  const edit = (next: string) => {
    setText(next);
    setProblem(undefined);
    if (publish.error) publish.reset();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseJsonText(text);
    if (!parsed.ok) {
      setProblem(`Not valid JSON${parsed.problem.line ? ` at line ${parsed.problem.line}` : ''}: ${parsed.problem.message}`);
      return;
    }
    setProblem(undefined);
    publish.mutate({ appId, config: parsed.value, ...(message.trim() ? { message: message.trim() } : {}) });
  };
  return (
    <Dialog
      open
      onClose={onClose}
      title="Publish a new config version"
      wide
      footer={<FormDialogFooter formId="publish-config" submitLabel="Publish and make current" busy={publish.isPending} onCancel={onClose} />}
    >
      <form id="publish-config" onSubmit={submit} className="space-y-4">
        {publish.error && !violations && <ErrorNotice error={publish.error} title="The config was refused" />}
        <Field
          label="Config (JSON)"
          hint="Validated against the app's config schema."
          error={
            problem ??
            (violations && (
              <span data-testid="config-violations">
                The config does not match the app's config schema:
                <ul className="mt-1 list-disc space-y-0.5 pl-5">
                  {violations.map((v, i) => (
                    <li key={i}>
                      <code className="font-mono">{v.path || '(the whole config)'}</code> {v.message}
                    </li>
                  ))}
                </ul>
              </span>
            ))
          }
        >
          {(p) => <TextArea {...p} rows={14} value={text} onChange={(e) => edit(e.target.value)} />}
        </Field>
        <Field label="Message (optional)">{(p) => <TextInput {...p} value={message} onChange={(e) => setMessage(e.target.value)} />}</Field>
      </form>
    </Dialog>
  );
}

function RollbackDialog({ appId, version, onClose }: { appId: string; version: number; onClose: () => void }) {
  const [reason, setReason] = useState('');
  const rollback = useApiMutation(rollbackAppConfigMutation, { invalidates: [queryKeys.apps.detail(appId)], onSuccess: onClose });
  return (
    <Dialog
      open
      onClose={onClose}
      title={`Make version ${version} current again?`}
      footer={<FormDialogFooter formId="rollback-config" submitLabel={`Make v${version} current`} busy={rollback.isPending} onCancel={onClose} />}
    >
      <form
        id="rollback-config"
        className="space-y-4"
        onSubmit={(e) => {
          e.preventDefault();
          rollback.mutate({ appId, version, ...(reason.trim() ? { reason: reason.trim() } : {}) });
        }}
      >
        <p className="text-sm text-slate-600">Version {version} becomes the config in force again; it is recorded as a rollback.</p>
        {rollback.error && <ErrorNotice error={rollback.error} title="The rollback was refused" />}
        <Field label="Reason (optional)">{(p) => <TextInput {...p} value={reason} onChange={(e) => setReason(e.target.value)} />}</Field>
      </form>
    </Dialog>
  );
}

function AppDetailPage() {
  const { appId } = appDetailRoute.useParams();
  const can = usePermissions();
  const app = useApiQuery(queryKeys.apps.detail(appId), appQuery, { id: appId }, { refetchInterval: 30_000 });
  const invalidates = [queryKeys.apps.detail(appId), queryKeys.apps.all];
  const pause = useApiMutation(pauseAppMutation, { invalidates });
  const resume = useApiMutation(resumeAppMutation, { invalidates });
  const [archiving, setArchiving] = useState(false);
  const archive = useApiMutation(archiveAppMutation, { invalidates, onSuccess: () => setArchiving(false) });
  const restore = useApiMutation(restoreAppMutation, { invalidates });
  const [publishing, setPublishing] = useState(false);
  const [editing, setEditing] = useState(false);
  const [rollbackTo, setRollbackTo] = useState<number>();
  const [shownVersion, setShownVersion] = useState<number>();

  if (app.isPending) return <LoadingBlock label="Loading app" />;
  const notFound = (
    <EmptyState title="App not found" action={<Link to="/apps" className="text-sm font-medium text-indigo-600">All apps</Link>}>
      There is no app {appId} in this organization.
    </EmptyState>
  );
  if (app.error) return isNotFound(app.error) ? notFound : <ErrorNotice error={app.error} onRetry={() => void app.refetch()} />;
  const data = app.data.app;
  if (!data) return notFound;
  const versions = data.configVersions.edges.map((e) => e.node);
  const shown = versions.find((v) => v.version === (shownVersion ?? data.currentConfig?.version)) ?? versions[0];
  const mutationError = pause.error ?? resume.error ?? restore.error;
  const health = data.health;
  const readOnly = data.status === 'ARCHIVED';

  return (
    <>
      <PageHeader
        breadcrumb={<Link to="/apps" className="hover:text-slate-700">Apps</Link>}
        title={
          <span className="flex items-center gap-3">
            {data.name} <StatusBadge status={data.status} />
          </span>
        }
        description={data.description || undefined}
        actions={
          <>
            {can.manageApps && !readOnly && <Button onClick={() => setEditing(true)}>Edit</Button>}
            {can.pauseApps && data.status === 'ACTIVE' && <Button busy={pause.isPending} onClick={() => pause.mutate({ id: data.id })}>Pause</Button>}
            {can.pauseApps && data.status === 'PAUSED' && <Button busy={resume.isPending} onClick={() => resume.mutate({ id: data.id })}>Resume</Button>}
            {can.manageApps && !readOnly && <Button variant="danger" onClick={() => { archive.reset(); setArchiving(true); }}>Archive</Button>}
            {can.manageApps && readOnly && <Button busy={restore.isPending} onClick={() => restore.mutate({ id: data.id })}>Restore</Button>}
          </>
        }
      />
      {mutationError && <ErrorNotice error={mutationError} className="mb-4" />}
      <div className="space-y-6">
        <Card title="Overview">
          <Details
            items={[
              ['Slug', <code className="font-mono text-xs">{data.slug}</code>],
              ['Owner', data.owner ? `${data.owner.name} (${data.owner.email})` : '—'],
              ['Health-check URL', data.healthCheckUrl ?? '—'],
              ['Tags', data.tags.length > 0 ? <span className="flex flex-wrap gap-1">{data.tags.map((t) => <Tag key={t}>{t}</Tag>)}</span> : '—'],
              ['Created', <ExactTime value={data.createdAt} />],
              ['Workflows', data.workflows.length > 0 ? <span className="flex flex-wrap gap-2">{data.workflows.map((w) => <Link key={w.id} to="/workflows/$workflowId" params={{ workflowId: w.id }} className="text-indigo-700 hover:underline">{w.name}</Link>)}</span> : '—'],
            ]}
          />
        </Card>
        <div className="grid grid-cols-1 gap-6 xl:grid-cols-2 *:min-w-0">
          <Card title="Health">
            {!health ? (
              <EmptyState title="Not monitored">Give the app a health-check URL and Orchestra probes it on an interval.</EmptyState>
            ) : (
              <div className="space-y-4">
                <div className="flex flex-wrap items-center gap-3">
                  <StatusBadge status={health.status} className="text-sm" />
                  <span className="text-sm text-slate-600">
                    since <RelativeTime value={health.since} />
                  </span>
                  <span className="text-xs text-slate-500">
                    last probe <RelativeTime value={health.lastCheckedAt} /> · {health.lastLatencyMs !== null ? `${health.lastLatencyMs} ms` : '—'} · HTTP {health.lastHttpStatus ?? '—'}
                  </span>
                </div>
                {health.lastError && <p className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{health.lastError}</p>}
                <div>
                  <div className="mb-1 flex justify-between text-xs text-slate-500">
                    <span>Uptime, last 24 h: <strong className="text-slate-800">{formatPercent(health.day.ratio, 2)}</strong></span>
                    <span>7 days: {formatPercent(health.week.ratio, 2)}</span>
                  </div>
                  <UptimeBar up={health.day.upSeconds} down={health.day.downSeconds} unknown={health.day.unknownSeconds} />
                  <p className="mt-1 text-xs text-slate-500">
                    {health.checksTotal} probes, {health.checksFailed} failed, since <ExactTime value={health.monitoringSince} />
                  </p>
                </div>
                <div>
                  <h3 className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">Status changes</h3>
                  {health.history.edges.length === 0 ? (
                    <p className="text-sm text-slate-400">None yet.</p>
                  ) : (
                    <ul className="divide-y divide-slate-100 text-sm">
                      {health.history.edges.map(({ node }) => (
                        <li key={node.id} className="flex items-center justify-between gap-2 py-1.5">
                          <span className="flex min-w-0 items-center gap-2">
                            <span className="flex shrink-0 items-center gap-2"><StatusBadge status={node.previousStatus} /> → <StatusBadge status={node.status} /></span>
                            {node.error && <span className="min-w-0 truncate text-xs text-red-700" title={node.error}>{node.error}</span>}
                          </span>
                          <span className="shrink-0 whitespace-nowrap text-xs text-slate-500"><RelativeTime value={node.changedAt} /></span>
                        </li>
                      ))}
                    </ul>
                  )}
                </div>
              </div>
            )}
          </Card>
          <Card title="Runs, last 24 h">
            <dl className="grid grid-cols-2 gap-3">
              <Stat label="Runs" value={data.stats.runs} hint={`${data.stats.active} active`} />
              <Stat label="Success rate" value={formatPercent(data.stats.successRate)} tone={data.stats.successRate !== null && data.stats.successRate < 0.9 ? 'warn' : 'default'} />
              <Stat label="p50 duration" value={formatDuration(data.stats.p50DurationMs)} />
              <Stat label="p95 duration" value={formatDuration(data.stats.p95DurationMs)} />
            </dl>
            <p className="mt-3 text-xs text-slate-500">
              {data.stats.succeeded} succeeded · {data.stats.failed} failed · {data.stats.cancelled} cancelled
            </p>
          </Card>
        </div>
        <RunMetricsPanel name={`Runs of ${data.name} over time`} filter={{ appId: data.id }} id="app-runs" />
        <Card
          title={`Configuration${data.currentConfig ? ` · v${data.currentConfig.version} in force` : ''}`}
          actions={can.manageApps && !readOnly && <Button size="sm" variant="primary" onClick={() => setPublishing(true)}>Publish new version</Button>}
          padded={false}
        >
          {versions.length === 0 ? (
            <EmptyState title="No config published yet" />
          ) : (
            <div className="grid grid-cols-1 xl:grid-cols-2 *:min-w-0">
              <div className="border-b border-slate-100 xl:border-b-0 xl:border-r">
                <Table label="Config versions" head={['Version', 'Message', 'Published', '']}>
                  {versions.map((v) => (
                    <tr key={v.version} className={`cursor-pointer ${v.version === shown?.version ? 'bg-indigo-50/60' : 'hover:bg-slate-50/70'}`} onClick={() => setShownVersion(v.version)}>
                      <Cell layout="nowrap">
                        <button type="button" className="font-medium text-indigo-700 hover:underline" onClick={() => setShownVersion(v.version)} aria-pressed={v.version === shown?.version}>
                          v{v.version}
                        </button>
                        {v.isCurrent && <span className="ml-2 rounded bg-emerald-50 px-1.5 py-0.5 text-[11px] font-medium text-emerald-700">current</span>}
                      </Cell>
                      <Cell className="max-w-48">{v.message || '—'}</Cell>
                      <Cell layout="nowrap"><RelativeTime value={v.createdAt} /></Cell>
                      <Cell layout="actions">
                        {can.manageApps && !readOnly && !v.isCurrent && (
                          <Button size="sm" onClick={(e) => { e.stopPropagation(); setRollbackTo(v.version); }}>
                            Make v{v.version} current
                          </Button>
                        )}
                      </Cell>
                    </tr>
                  ))}
                </Table>
              </div>
              <div className="p-4">
                {shown && (
                  <>
                    <p className="mb-2 text-xs text-slate-500">
                      v{shown.version} · schema v{shown.schemaVersion} · by {shown.createdBy?.email ?? 'unknown'} · <ExactTime value={shown.createdAt} />
                    </p>
                    <JsonBlock value={shown.config} label={`Config version ${shown.version}`} maxHeight="max-h-96" />
                  </>
                )}
              </div>
            </div>
          )}
        </Card>
        <div className="grid grid-cols-1 gap-6 xl:grid-cols-2 *:min-w-0">
          <Card title="Activations" padded={false}>
            <Table label="Config activations" head={['Version', 'Kind', 'By', 'When', 'Reason']}>
              {data.configActivations.edges.map(({ node }) => (
                <tr key={node.id}>
                  <Cell layout="nowrap">v{node.version}{node.previousVersion !== null && <span className="text-xs text-slate-400"> (from v{node.previousVersion})</span>}</Cell>
                  <Cell layout="nowrap">{node.kind === 'ROLLBACK' ? 'Rollback' : 'Publish'}</Cell>
                  <Cell>{node.activatedBy ? <EmailText value={node.activatedBy.email} /> : '—'}</Cell>
                  <Cell layout="nowrap"><RelativeTime value={node.activatedAt} /></Cell>
                  <Cell className="max-w-xs">{node.reason || '—'}</Cell>
                </tr>
              ))}
            </Table>
          </Card>
          <Card title={`Config schema v${data.configSchemaVersion}`}>
            <JsonBlock value={data.configSchema} label="Config schema" />
          </Card>
        </div>
      </div>
      {editing && <EditAppDialog app={data} onClose={() => setEditing(false)} />}
      {archiving && (
        <ConfirmDialog title={`Archive ${data.name}?`} confirmLabel="Archive app" busy={archive.isPending} error={archive.error} onConfirm={() => archive.mutate({ id: data.id })} onClose={() => setArchiving(false)}>
          <p>The app becomes read-only: no new config versions, and its health is no longer probed. You can restore it later.</p>
        </ConfirmDialog>
      )}
      {publishing && <PublishConfigDialog appId={data.id} current={shown?.config} onClose={() => setPublishing(false)} />}
      {rollbackTo !== undefined && <RollbackDialog appId={data.id} version={rollbackTo} onClose={() => setRollbackTo(undefined)} />}
    </>
  );
}

export const appDetailRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/apps/$appId', component: AppDetailPage });
