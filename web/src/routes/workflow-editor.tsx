import { createRoute, Link, useNavigate } from '@tanstack/react-router';
import { useMemo, useState, type FormEvent } from 'react';
import { Button } from '../components/button';
import { Card } from '../components/card';
import { DagView } from '../components/dag-view';
import { EmptyState, ErrorNotice, LoadingBlock, Notice } from '../components/feedback';
import { Field, SelectInput, TextArea, TextInput } from '../components/form';
import { PageHeader } from '../components/page-header';
import { Tag } from '../components/status-badge';
import { useServices } from '../hooks/services';
import { useApiQuery } from '../hooks/use-api';
import { usePermissions } from '../hooks/use-session';
import type { StepInput } from '../lib/api/__generated__/graphql';
import { appsQuery } from '../lib/api/operations/apps';
import { capabilitiesQuery, createWorkflowMutation, publishWorkflowVersionMutation, workflowQuery } from '../lib/api/operations/workflows';
import { queryKeys } from '../lib/api/query-keys';
import { isNotFound } from '../lib/api/errors';
import { blamesField, fieldErrorFor } from '../lib/field-errors';
import { checkStepsShape, parseJsonText, stepProblemOf, type StepProblem } from '../lib/step-errors';
import { useQueryClient } from '@tanstack/react-query';
import { appLayoutRoute } from './app-layout';

const EXAMPLE_STEPS = [
  { id: 'prepare', capability: 'noop' },
  { id: 'wait', capability: 'sleep', dependsOn: ['prepare'], input: { ms: 2000 } },
  { id: 'report', capability: 'transform', dependsOn: ['wait'], input: { value: { run: '{{ run.id }}', done: true } } },
];

/** What the editor keeps of a published step: everything StepInput takes. */
const toStepInput = (step: { id: string; capability: string; input: unknown; dependsOn: string[]; retry: object; timeoutMs: number; pool: string; labels: Array<{ key: string; value: string }> }) => ({
  id: step.id,
  capability: step.capability,
  ...(step.input !== null && step.input !== undefined ? { input: step.input } : {}),
  ...(step.dependsOn.length > 0 ? { dependsOn: step.dependsOn } : {}),
  retry: step.retry,
  timeoutMs: step.timeoutMs,
  pool: step.pool,
  ...(step.labels.length > 0 ? { labels: step.labels.map(({ key, value }) => ({ key, value })) } : {}),
});

function WorkflowEditor({ workflow }: { workflow?: { id: string; name: string; nextVersion: number; initialSteps: unknown[] } }) {
  const { api } = useServices();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const can = usePermissions();
  const capabilities = useApiQuery(queryKeys.workflows.capabilities, capabilitiesQuery, {});
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [appId, setAppId] = useState('');
  // Only a new workflow picks its app here; active and paused apps (archived ones take no new workflows).
  const apps = useApiQuery(queryKeys.apps.choices, appsQuery, { first: 100 }, { enabled: !workflow });
  const [text, setText] = useState(() => JSON.stringify(workflow?.initialSteps ?? EXAMPLE_STEPS, null, 2));
  const [apiError, setApiError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const parsed = useMemo(() => parseJsonText(text), [text]);
  const shapeProblem = parsed.ok ? checkStepsShape(parsed.value) : undefined;
  const steps = useMemo(() => (parsed.ok && Array.isArray(parsed.value) ? (parsed.value as Array<Record<string, unknown>>) : []), [parsed]);
  // Errors that point at a step go on that step; anything else (a taken name...) in a plain notice.
  const stepProblem = apiError !== undefined && !blamesField(apiError, ['name', 'appId']) ? stepProblemOf(apiError, steps) : undefined;
  const problem: StepProblem | undefined = stepProblem && (stepProblem.stepIndex !== undefined || stepProblem.stepId !== undefined) ? stepProblem : undefined;
  const previewSteps = useMemo(
    () =>
      steps
        .filter((s) => typeof s['id'] === 'string')
        .map((s) => ({
          id: s['id'] as string,
          dependsOn: Array.isArray(s['dependsOn']) ? (s['dependsOn'] as unknown[]).filter((d): d is string => typeof d === 'string') : [],
          ...(typeof s['capability'] === 'string' ? { capability: s['capability'] } : {}),
          problem: problem?.stepId === s['id'] || (shapeProblem?.stepId !== undefined && shapeProblem.stepId === s['id']),
        })),
    [steps, problem, shapeProblem],
  );

  if (!can.manageWorkflows) return <Notice tone="warning">Only admins and owners define workflows.</Notice>;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!parsed.ok || shapeProblem) return;
    setBusy(true);
    setApiError(undefined);
    try {
      const stepInputs = parsed.value as StepInput[];
      if (workflow) {
        await api.request(publishWorkflowVersionMutation, { workflowId: workflow.id, steps: stepInputs });
        await queryClient.invalidateQueries({ queryKey: queryKeys.workflows.all });
        await navigate({ to: '/workflows/$workflowId', params: { workflowId: workflow.id }, search: {} });
      } else {
        const { createWorkflow } = await api.request(createWorkflowMutation, { input: { name: name.trim(), ...(description.trim() ? { description: description.trim() } : {}), ...(appId ? { appId } : {}), steps: stepInputs } });
        await queryClient.invalidateQueries({ queryKey: queryKeys.workflows.all });
        await navigate({ to: '/workflows/$workflowId', params: { workflowId: createWorkflow.id }, search: {} });
      }
    } catch (caught) {
      setApiError(caught);
    } finally {
      setBusy(false);
    }
  };

  const localProblem = !parsed.ok
    ? `Not valid JSON${parsed.problem.line ? ` at line ${parsed.problem.line}, column ${parsed.problem.column}` : ''}: ${parsed.problem.message}`
    : shapeProblem?.message;

  return (
    <form onSubmit={(e) => void submit(e)} className="grid grid-cols-1 gap-6 xl:grid-cols-5 *:min-w-0" noValidate>
      <div className="space-y-4 xl:col-span-3">
        {!workflow && (
          <Card>
            <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
              <Field label="Name" hint="Unique in the organization; runs can be started by name." error={fieldErrorFor(apiError, 'name')}>
                {(p) => <TextInput {...p} required value={name} onChange={(e) => setName(e.target.value)} autoFocus />}
              </Field>
              <Field label="Description (optional)">{(p) => <TextInput {...p} value={description} onChange={(e) => setDescription(e.target.value)} />}</Field>
              <Field label="App (optional)" hint="The app this workflow automates; its runs count in the app's stats." error={fieldErrorFor(apiError, 'appId') ?? (apps.error ? 'The apps could not be loaded.' : undefined)}>
                {(p) => (
                  <SelectInput {...p} value={appId} onChange={(e) => setAppId(e.target.value)} disabled={apps.isPending}>
                    <option value="">No app</option>
                    {apps.data?.apps.edges.map(({ node }) => (
                      <option key={node.id} value={node.id}>
                        {node.name} ({node.slug})
                      </option>
                    ))}
                  </SelectInput>
                )}
              </Field>
            </div>
          </Card>
        )}
        <Card title="Steps (JSON)" actions={<span className="text-xs text-slate-500">id, capability, input, dependsOn, retry, timeoutMs, pool, labels</span>}>
          <label htmlFor="steps-json" className="sr-only">
            Steps as JSON
          </label>
          <TextArea
            id="steps-json"
            rows={24}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              setApiError(undefined);
            }}
            aria-invalid={localProblem !== undefined || problem !== undefined}
            aria-describedby="steps-problems"
            onKeyDown={(e) => {
              // Tab indents inside the editor; Escape then Tab leaves it (keyboard users are not trapped).
              if (e.key === 'Tab' && !e.shiftKey && !e.altKey && e.currentTarget.dataset['escaped'] !== 'true') {
                e.preventDefault();
                const el = e.currentTarget;
                const { selectionStart, selectionEnd } = el;
                const next = `${text.slice(0, selectionStart)}  ${text.slice(selectionEnd)}`;
                setText(next);
                requestAnimationFrame(() => el.setSelectionRange(selectionStart + 2, selectionStart + 2));
              }
              e.currentTarget.dataset['escaped'] = e.key === 'Escape' ? 'true' : 'false';
            }}
          />
          <p className="mt-1 text-xs text-slate-500">Tab indents; press Escape first to move focus on with Tab.</p>
        </Card>
      </div>
      <div className="space-y-4 xl:col-span-2">
        <div id="steps-problems" aria-live="polite">
          {localProblem && (
            <div role="alert" className="rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
              <p className="font-semibold">Fix this before saving</p>
              <p>{localProblem}</p>
            </div>
          )}
          {problem && (
            <div role="alert" className="rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800" data-testid="step-problem">
              <p className="font-semibold">{problem.stepId ? <>Step <code className="font-mono">{problem.stepId}</code></> : problem.stepIndex !== undefined ? `Step ${problem.stepIndex + 1}` : 'The definition'} was refused</p>
              <p className="mt-0.5">{problem.message}</p>
              {problem.property && <p className="mt-1 text-xs">Field: <code className="font-mono">{problem.property}</code></p>}
            </div>
          )}
          {apiError !== undefined && !problem && !blamesField(apiError, ['name', 'appId']) && <ErrorNotice error={apiError} />}
        </div>
        <Card title="Preview">
          <DagView steps={previewSteps} label="Preview of the workflow graph" />
        </Card>
        <Card title="Capabilities">
          {capabilities.isPending ? (
            <LoadingBlock />
          ) : capabilities.error ? (
            <ErrorNotice error={capabilities.error} />
          ) : (
            <div className="flex flex-wrap gap-1.5">
              {capabilities.data.capabilities.map((c) => (
                <Tag key={c}>{c}</Tag>
              ))}
            </div>
          )}
          <p className="mt-3 text-xs text-slate-500">
            Inputs may use <code className="font-mono">{'{{ input.x }}'}</code>, <code className="font-mono">{'{{ steps.<id>.output.<path> }}'}</code> (upstream steps only) and <code className="font-mono">{'{{ run.id }}'}</code>.
          </p>
        </Card>
        <div className="flex justify-end gap-2">
          {workflow ? (
            <Link to="/workflows/$workflowId" params={{ workflowId: workflow.id }} search={{}} className="px-3 py-2 text-sm font-medium text-slate-600 hover:text-slate-900">
              Cancel
            </Link>
          ) : (
            <Link to="/workflows" className="px-3 py-2 text-sm font-medium text-slate-600 hover:text-slate-900">
              Cancel
            </Link>
          )}
          <Button type="submit" variant="primary" busy={busy} disabled={localProblem !== undefined}>
            {workflow ? `Publish version ${workflow.nextVersion}` : 'Create workflow'}
          </Button>
        </div>
      </div>
    </form>
  );
}

function NewWorkflowPage() {
  return (
    <>
      <PageHeader breadcrumb={<Link to="/workflows" className="hover:text-slate-700">Workflows</Link>} title="New workflow" description="Define the steps as JSON; the graph on the right follows as you type. Orchestra checks the definition when you save." />
      <WorkflowEditor />
    </>
  );
}

function NewVersionPage() {
  const { workflowId } = newWorkflowVersionRoute.useParams();
  const { from } = newWorkflowVersionRoute.useSearch();
  const workflow = useApiQuery(queryKeys.workflows.detail(workflowId), workflowQuery, { id: workflowId });
  if (workflow.isPending) return <LoadingBlock />;
  const notFound = (
    <EmptyState title="Workflow not found" action={<Link to="/workflows" className="text-sm font-medium text-indigo-600">All workflows</Link>}>
      There is no workflow {workflowId} in this organization.
    </EmptyState>
  );
  if (workflow.error) return isNotFound(workflow.error) ? notFound : <ErrorNotice error={workflow.error} onRetry={() => void workflow.refetch()} />;
  const data = workflow.data.workflow;
  if (!data) return notFound;
  const base = data.versions.find((v) => v.number === from) ?? data.versions.find((v) => v.number === data.latestVersion.number);
  return (
    <>
      <PageHeader
        breadcrumb={
          <>
            <Link to="/workflows" className="hover:text-slate-700">Workflows</Link> /{' '}
            <Link to="/workflows/$workflowId" params={{ workflowId }} search={{}} className="hover:text-slate-700">{data.name}</Link>
          </>
        }
        title={`New version of ${data.name}`}
        description={`Starting from v${base?.number ?? data.latestVersion.number}. Running runs keep their version.`}
      />
      <WorkflowEditor workflow={{ id: data.id, name: data.name, nextVersion: data.latestVersion.number + 1, initialSteps: (base?.steps ?? []).map(toStepInput) }} />
    </>
  );
}

export const newWorkflowRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/workflows/new', component: NewWorkflowPage });

export const newWorkflowVersionRoute = createRoute({
  getParentRoute: () => appLayoutRoute,
  path: '/workflows/$workflowId/new-version',
  validateSearch: (search: Record<string, unknown>): { from?: number | undefined } => {
    const from = Number(search['from']);
    return Number.isInteger(from) && from > 0 ? { from } : {};
  },
  component: NewVersionPage,
});
