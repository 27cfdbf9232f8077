import { Link } from '@tanstack/react-router';
import { Dialog } from './dialog';
import { EmptyState, ErrorNotice, LoadingBlock } from './feedback';
import { StatusBadge } from './status-badge';
import { Cell, Table } from './table';
import { ExactTime, RelativeTime } from './time';
import { useApiQuery } from '../hooks/use-api';
import type { ScheduleFireOutcome } from '../lib/api/__generated__/graphql';
import { scheduleFiresQuery } from '../lib/api/operations/flow';
import { queryKeys } from '../lib/api/query-keys';

/** What a schedule's latest ticks did: started a run, skipped (overlap), queued, or missed (catch-up), and why. */

const OUTCOME_STYLE: Record<ScheduleFireOutcome, string> = {
  STARTED: 'bg-emerald-50 text-emerald-800 ring-emerald-200',
  QUEUED: 'bg-sky-50 text-sky-800 ring-sky-200',
  SKIPPED: 'bg-amber-50 text-amber-800 ring-amber-200',
  MISSED: 'bg-red-50 text-red-800 ring-red-200',
};

export function ScheduleTicksDialog({ schedule, onClose }: { schedule: { id: string; cron: string; workflow: { name: string } }; onClose: () => void }) {
  const fires = useApiQuery(queryKeys.schedules.fires(schedule.id), scheduleFiresQuery, { id: schedule.id, first: 50 }, { refetchInterval: 10_000 });
  const list = fires.data?.schedule?.fires ?? [];
  return (
    <Dialog open onClose={onClose} wide title={<>Latest ticks of {schedule.workflow.name} <code className="font-mono text-xs">{schedule.cron}</code></>}>
      {fires.isPending ? (
        <LoadingBlock />
      ) : fires.error ? (
        <ErrorNotice error={fires.error} onRetry={() => void fires.refetch()} />
      ) : list.length === 0 ? (
        <EmptyState title="No ticks yet">Each tick is listed here once handled: the run it started, or why it did not.</EmptyState>
      ) : (
        <Table label="Schedule ticks" head={['Tick', 'Outcome', 'Run', 'Why']}>
          {list.map((f) => (
            <tr key={f.tickAt} data-tick={f.outcome}>
              <Cell layout="nowrap" className="text-xs tabular-nums"><ExactTime value={f.tickAt} /></Cell>
              <Cell layout="nowrap">
                <span className={`inline-flex rounded-md px-1.5 py-0.5 text-[11px] font-semibold ring-1 ring-inset ${OUTCOME_STYLE[f.outcome]}`}>{f.outcome}</span>
                <span className="block text-[11px] text-slate-500">handled <RelativeTime value={f.firedAt} /></span>
              </Cell>
              <Cell layout="nowrap">
                {f.run ? (
                  <Link to="/runs/$runId" params={{ runId: f.run.id }} className="hover:underline"><StatusBadge status={f.run.status} /></Link>
                ) : (
                  <span className="text-xs text-slate-400">—</span>
                )}
              </Cell>
              <Cell className="max-w-md text-xs text-slate-600">{f.reason ?? ''}</Cell>
            </tr>
          ))}
        </Table>
      )}
    </Dialog>
  );
}
