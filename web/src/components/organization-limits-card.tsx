import { Card } from './card';
import { ErrorNotice, LoadingBlock } from './feedback';
import { Cell, Table } from './table';
import { useApiQuery } from '../hooks/use-api';
import { organizationLimitsQuery } from '../lib/api/operations/limits';
import { queryKeys } from '../lib/api/query-keys';

/**
 * The limits platform operators set for the organization (issue 10: quotas, fair-share weight, pools)
 * with what it uses now; read-only (operators change them with the flow-limits command, not here).
 */
export function OrganizationLimitsCard() {
  const limits = useApiQuery(queryKeys.organizationLimits.all, organizationLimitsQuery, {}, { refetchInterval: 10_000 });
  const l = limits.data?.organizationLimits;
  const none = <span className="text-slate-400">no limit</span>;
  const busiest = l ? Math.max(0, ...l.usage.runningTasks.map((p) => p.running)) : 0;
  return (
    <Card padded={false} title="Organization limits (set by platform operators)">
      {limits.isPending ? (
        <LoadingBlock />
      ) : limits.error || !l ? (
        <div className="p-4"><ErrorNotice error={limits.error} onRetry={() => void limits.refetch()} /></div>
      ) : (
        <>
          <Table label="Organization limits" head={['Limit', 'Allowed', 'Used now', 'Past it']}>
            <tr data-limit="runningTasksPerPool">
              <Cell>Running tasks per pool</Cell>
              <Cell className="tabular-nums">{l.runningTasksPerPool ?? none}</Cell>
              <Cell className="text-xs tabular-nums">{l.usage.runningTasks.length === 0 ? '0' : l.usage.runningTasks.map((p) => `${p.pool}: ${p.running}`).join(', ')}{l.runningTasksPerPool !== null && busiest >= l.runningTasksPerPool ? ' (at the limit)' : ''}</Cell>
              <Cell className="text-xs text-slate-500">tasks wait (QUOTA)</Cell>
            </tr>
            <tr data-limit="runsStartedPerMinute">
              <Cell>Runs started per minute</Cell>
              <Cell className="tabular-nums">{l.runsStartedPerMinute ?? none}</Cell>
              <Cell className="text-xs tabular-nums">{l.usage.runsStartedLastMinute} in the last minute</Cell>
              <Cell className="text-xs text-slate-500">startRun refused (QUOTA_EXCEEDED)</Cell>
            </tr>
            <tr data-limit="queuedTasks">
              <Cell>Tasks waiting to start</Cell>
              <Cell className="tabular-nums">{l.queuedTasks ?? none}</Cell>
              <Cell className="text-xs tabular-nums">{l.usage.queuedTasks}</Cell>
              <Cell className="text-xs text-slate-500">startRun refused (QUOTA_EXCEEDED)</Cell>
            </tr>
          </Table>
          <dl className="grid gap-3 border-t border-slate-100 p-4 text-sm sm:grid-cols-2">
            <div>
              <dt className="text-xs font-medium text-slate-500">Fair-share weight</dt>
              <dd data-testid="fair-share-weight">{l.weight} <span className="text-xs text-slate-500">(its share of a pool's slots while several organizations wait; 1 = an equal share)</span></dd>
            </div>
            <div>
              <dt className="text-xs font-medium text-slate-500">Pools its steps may use</dt>
              <dd data-testid="allowed-pools">{l.pools.map((p) => <code key={p} className="mr-1 rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs">{p}</code>)}</dd>
            </div>
          </dl>
        </>
      )}
    </Card>
  );
}
