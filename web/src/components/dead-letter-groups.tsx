import type { DeadLetterGroupsQuery } from '../lib/api/__generated__/graphql';
import { Button } from './button';
import { Cell, Table } from './table';
import { RelativeTime } from './time';

export type DeadLetterGroupRow = DeadLetterGroupsQuery['deadLetterGroups'][number];

export interface DeadLetterGroupKey {
  errorCode: string;
  stepId: string;
  workflowId: string;
}

/** Open dead letters by error code, workflow and step, with counts; choosing a group filters the list to it. */
export function DeadLetterGroups({ groups, current, onChoose }: { groups: readonly DeadLetterGroupRow[]; current: Partial<DeadLetterGroupKey>; onChoose: (group: DeadLetterGroupKey | undefined) => void }) {
  const isCurrent = (g: DeadLetterGroupRow) => current.errorCode === g.errorCode && current.stepId === g.stepId && current.workflowId === g.workflow.id;
  return (
    <Table label="Dead-letter groups" head={['Error', 'Workflow', 'Step', 'Open', 'Latest', '']}>
      {groups.map((g) => {
        const on = isCurrent(g);
        return (
          <tr key={`${g.errorCode}/${g.workflow.id}/${g.stepId}`} className={on ? 'bg-indigo-50/60' : 'hover:bg-slate-50/70'} data-group={`${g.workflow.name}/${g.stepId}`}>
            <Cell className="max-w-md">
              <code className="font-mono text-xs font-semibold text-red-700">{g.errorCode}</code>
              <span className="block truncate text-xs text-slate-500" title={g.message}>
                {g.message}
              </span>
            </Cell>
            <Cell>{g.workflow.name}</Cell>
            <Cell layout="nowrap" className="font-mono text-xs">
              {g.stepId}
            </Cell>
            <Cell layout="nowrap" className="tabular-nums font-semibold" >
              <span data-testid="group-count">{g.count}</span>
            </Cell>
            <Cell layout="nowrap">
              <RelativeTime value={g.lastAt} />
            </Cell>
            <Cell layout="actions">
              <Button size="sm" variant={on ? 'primary' : 'secondary'} aria-pressed={on} onClick={() => onChoose(on ? undefined : { errorCode: g.errorCode, stepId: g.stepId, workflowId: g.workflow.id })}>
                {on ? 'Showing' : 'Show these'}
              </Button>
            </Cell>
          </tr>
        );
      })}
    </Table>
  );
}
