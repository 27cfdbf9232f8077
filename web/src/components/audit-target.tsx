import { Link } from '@tanstack/react-router';

/** The diff field some events keep their run in (a dead letter's task). */
const runIdOf = (diff: unknown): string | undefined => {
  if (diff === null || typeof diff !== 'object') return undefined;
  const runId = (diff as Record<string, unknown>)['runId'];
  return typeof runId === 'string' ? runId : undefined;
};

const LINK = 'text-indigo-700 hover:underline';

/**
 * An audit event's target, as a link to the object where the app has a page for it (a run, workflow
 * or app by id; members, API keys, schedules, triggers, secrets, webhooks by their list).
 */
export function AuditTarget({ targetType, targetId, diff }: { targetType: string; targetId: string | null | undefined; diff: unknown }) {
  const id = targetId ?? '';
  const idLabel = id && (
    <span className="block w-28 truncate font-mono text-slate-400" title={id}>
      {id}
    </span>
  );
  const listLink = (to: '/members' | '/api-keys' | '/schedules' | '/triggers' | '/secrets' | '/webhooks') => (
    <Link to={to} className={LINK} data-testid="audit-target-link">
      {targetType}
      {idLabel}
    </Link>
  );
  switch (targetType) {
    case 'Run':
      return id ? (
        <Link to="/runs/$runId" params={{ runId: id }} className={LINK} data-testid="audit-target-link">
          Run{idLabel}
        </Link>
      ) : (
        <>Run</>
      );
    case 'Workflow':
      return id ? (
        <Link to="/workflows/$workflowId" params={{ workflowId: id }} className={LINK} data-testid="audit-target-link">
          Workflow{idLabel}
        </Link>
      ) : (
        <>Workflow</>
      );
    case 'App':
      return id ? (
        <Link to="/apps/$appId" params={{ appId: id }} className={LINK} data-testid="audit-target-link">
          App{idLabel}
        </Link>
      ) : (
        <>App</>
      );
    case 'Task': {
      const runId = runIdOf(diff);
      return runId ? (
        <Link to="/runs/$runId" params={{ runId }} className={LINK} data-testid="audit-target-link" title={`Task ${id} of run ${runId}`}>
          Task{idLabel}
        </Link>
      ) : (
        <>Task{idLabel}</>
      );
    }
    case 'User':
    case 'Membership':
    case 'Invitation':
      return listLink('/members');
    case 'ApiKey':
      return listLink('/api-keys');
    case 'Schedule':
      return listLink('/schedules');
    case 'Trigger':
      return listLink('/triggers');
    case 'Secret':
      return listLink('/secrets');
    case 'WebhookEndpoint':
    case 'WebhookDelivery':
      return listLink('/webhooks');
    default:
      return (
        <>
          {targetType}
          {idLabel}
        </>
      );
  }
}
