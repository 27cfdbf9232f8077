import { createRoute, Link } from '@tanstack/react-router';
import { useState } from 'react';
import { ApprovalButtons, type ApprovalDecision } from '../components/approval-decision';
import { Card } from '../components/card';
import { EmptyState, ErrorNotice, LoadingBlock, Notice } from '../components/feedback';
import { PageHeader } from '../components/page-header';
import { Pagination } from '../components/pagination';
import { Cell, Table } from '../components/table';
import { RelativeTime } from '../components/time';
import { useApiQuery } from '../hooks/use-api';
import { useCursorPages } from '../hooks/use-cursor-pages';
import { pendingApprovalsQuery } from '../lib/api/operations/approvals';
import { queryKeys } from '../lib/api/query-keys';
import { plural } from '../lib/format';
import { appLayoutRoute } from './app-layout';

/** How often the list and the nav badge look again for approvals (new ones also arrive as notifications). */
export const APPROVALS_POLL_MS = 15_000;

/**
 * Approvals waiting for me (issue 10): the organization's waiting approval steps whose roles include
 * mine, oldest first, with their run, workflow, step, message and since when; Approve / Reject with
 * a comment. Viewers never decide, so the page is not in their navigation.
 */
function ApprovalsPage() {
  const pages = useCursorPages('approvals');
  const [decided, setDecided] = useState<{ runId: string; stepId: string; decision: ApprovalDecision }>();
  const list = useApiQuery(queryKeys.approvals.list({ after: pages.after }), pendingApprovalsQuery, { first: 25, after: pages.after ?? null }, { placeholderData: (p) => p, refetchInterval: APPROVALS_POLL_MS });

  return (
    <>
      <PageHeader title="Approvals" description="Wait steps waiting for a decision from someone with your role. A decision lets the run go on (approve) or stops it (reject); the comment goes with it." />
      {decided && (
        <div className="mb-4">
          <Notice tone="success">
            Step <code className="font-mono">{decided.stepId}</code> {decided.decision === 'approve' ? 'approved' : 'rejected'}.{' '}
            <Link to="/runs/$runId" params={{ runId: decided.runId }} className="font-medium underline">
              Watch the run
            </Link>
          </Notice>
        </div>
      )}
      <Card padded={false} title="Waiting for a decision">
        {list.isPending ? (
          <LoadingBlock />
        ) : list.error ? (
          <div className="p-4">
            <ErrorNotice error={list.error} onRetry={() => void list.refetch()} />
          </div>
        ) : list.data.pendingApprovals.edges.length === 0 ? (
          <EmptyState title="Nothing waits for you">Approval steps of your organization that your role may decide show here while they wait.</EmptyState>
        ) : (
          <>
            <Table label="Pending approvals" head={['Workflow', 'Step', 'Message', 'Waiting since', 'Deadline', '']}>
              {list.data.pendingApprovals.edges.map(({ node }) => (
                <tr key={node.id} data-approval-step={node.stepId}>
                  <Cell>
                    <Link to="/runs/$runId" params={{ runId: node.run.id }} search={{ task: node.stepId }} className="text-indigo-700 hover:underline">
                      {node.run.workflow.name}
                    </Link>
                  </Cell>
                  <Cell layout="nowrap" className="font-mono text-xs font-semibold">{node.stepId}</Cell>
                  <Cell className="max-w-md whitespace-pre-wrap break-words">{node.message ?? <span className="text-slate-400">—</span>}</Cell>
                  <Cell layout="nowrap">
                    <RelativeTime value={node.waitingSince} />
                  </Cell>
                  <Cell layout="nowrap" className="text-xs text-slate-600">
                    <RelativeTime value={node.deadline} /> ({node.onTimeout === 'FAIL' ? 'fails' : node.onTimeout === 'APPROVE' ? 'approved' : 'rejected'})
                  </Cell>
                  <Cell layout="actions">
                    {node.canDecide ? (
                      <ApprovalButtons approval={{ taskId: node.task.id, stepId: node.stepId, message: node.message ?? null }} onDecided={(decision) => setDecided({ runId: node.run.id, stepId: node.stepId, decision })} />
                    ) : (
                      <span className="text-xs text-slate-500">{node.roles.join(', ')} only</span>
                    )}
                  </Cell>
                </tr>
              ))}
            </Table>
            <Pagination
              hasPrevious={pages.hasPrevious}
              hasNext={list.data.pendingApprovals.pageInfo.hasNextPage}
              onPrevious={pages.previous}
              onNext={() => pages.next(list.data.pendingApprovals.pageInfo.endCursor)}
              summary={plural(list.data.pendingApprovals.totalCount, 'approval')}
            />
          </>
        )}
      </Card>
    </>
  );
}

export const approvalsRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/approvals', component: ApprovalsPage });
