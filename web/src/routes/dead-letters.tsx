import { createRoute, Link } from '@tanstack/react-router';
import { useState } from 'react';
import { Button } from '../components/button';
import { Card } from '../components/card';
import { ConfirmDialog } from '../components/confirm-dialog';
import { EmptyState, ErrorNotice, LoadingBlock, Notice } from '../components/feedback';
import { Checkbox } from '../components/form';
import { PageHeader } from '../components/page-header';
import { Pagination } from '../components/pagination';
import { StatusBadge } from '../components/status-badge';
import { Cell, Table } from '../components/table';
import { RelativeTime } from '../components/time';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { useCursorPages } from '../hooks/use-cursor-pages';
import { usePermissions } from '../hooks/use-session';
import { deadLettersQuery, replayDeadLetterMutation } from '../lib/api/operations/runs';
import { queryKeys } from '../lib/api/query-keys';
import { plural } from '../lib/format';
import { appLayoutRoute } from './app-layout';

function DeadLettersPage() {
  const can = usePermissions();
  const [includeReplayed, setIncludeReplayed] = useState(false);
  const pages = useCursorPages(String(includeReplayed));
  const [replayed, setReplayed] = useState<{ runId: string; stepId: string }>();
  const [replaying, setReplaying] = useState<{ id: string; runId: string; stepId: string; workflow: string; error: { code: string; message: string; retryable: boolean | null } }>();
  const letters = useApiQuery(queryKeys.deadLetters.list({ includeReplayed, after: pages.after }), deadLettersQuery, { first: 25, after: pages.after ?? null, filter: { includeReplayed } }, { placeholderData: (p) => p });
  const replay = useApiMutation(replayDeadLetterMutation, { invalidates: [queryKeys.deadLetters.all, queryKeys.runs.all] });

  return (
    <>
      <PageHeader title="Dead letters" description="Tasks that ran out of attempts. Replaying one runs its run's failed and cancelled steps again; succeeded steps keep their output." />
      {replayed && (
        <div className="mb-4">
          <Notice tone="success">
            Step <code className="font-mono">{replayed.stepId}</code> is queued again.{' '}
            <Link to="/runs/$runId" params={{ runId: replayed.runId }} className="font-medium underline">
              Watch the run
            </Link>
          </Notice>
        </div>
      )}
      <Card padded={false} actions={<Checkbox label="Include replayed" checked={includeReplayed} onChange={(e) => setIncludeReplayed(e.target.checked)} />} title="Tasks out of attempts">
        {letters.isPending ? (
          <LoadingBlock />
        ) : letters.error ? (
          <div className="p-4"><ErrorNotice error={letters.error} onRetry={() => void letters.refetch()} /></div>
        ) : letters.data.deadLetters.edges.length === 0 ? (
          <EmptyState title="No dead letters">Every task that failed for good would be listed here.</EmptyState>
        ) : (
          <>
            <Table label="Dead letters" head={['Step', 'Run', 'Error', 'Attempts', 'Failed', '']}>
              {letters.data.deadLetters.edges.map(({ node }) => (
                <tr key={node.id}>
                  <Cell layout="nowrap" className="font-mono text-xs font-semibold">{node.stepId}</Cell>
                  <Cell>
                    <Link to="/runs/$runId" params={{ runId: node.run.id }} search={{ task: node.stepId }} className="text-indigo-700 hover:underline">
                      {node.run.workflow.name}
                    </Link>{' '}
                    <StatusBadge status={node.run.status} />
                  </Cell>
                  <Cell className="max-w-md text-red-700">
                    {node.error.code}: {node.error.message}
                  </Cell>
                  <Cell layout="nowrap" className="tabular-nums">{node.attempts}</Cell>
                  <Cell layout="nowrap">
                    <RelativeTime value={node.createdAt} />
                  </Cell>
                  <Cell layout="actions">
                    {node.replayedAt ? (
                      <span className="text-xs text-slate-500">
                        Replayed <RelativeTime value={node.replayedAt} /> {node.replayedBy ? `by ${node.replayedBy}` : ''}
                      </span>
                    ) : (
                      can.replayDeadLetters && (
                        <Button
                          size="sm"
                          onClick={() => {
                            replay.reset();
                            setReplaying({ id: node.id, runId: node.run.id, stepId: node.stepId, workflow: node.run.workflow.name, error: node.error });
                          }}
                        >
                          Replay
                        </Button>
                      )
                    )}
                  </Cell>
                </tr>
              ))}
            </Table>
            <Pagination hasPrevious={pages.hasPrevious} hasNext={letters.data.deadLetters.pageInfo.hasNextPage} onPrevious={pages.previous} onNext={() => pages.next(letters.data.deadLetters.pageInfo.endCursor)} summary={plural(letters.data.deadLetters.totalCount, 'dead letter')} />
          </>
        )}
      </Card>
      {replaying && (
        <ConfirmDialog
          title={`Replay step ${replaying.stepId}?`}
          confirmLabel={replaying.error.retryable === false ? 'Replay anyway' : 'Replay'}
          variant={replaying.error.retryable === false ? 'danger' : 'primary'}
          busy={replay.isPending}
          error={replay.error}
          onConfirm={() =>
            replay.mutate(
              { id: replaying.id },
              {
                onSuccess: () => {
                  setReplayed({ runId: replaying.runId, stepId: replaying.stepId });
                  setReplaying(undefined);
                },
              },
            )
          }
          onClose={() => setReplaying(undefined)}
        >
          <p>
            The run of {replaying.workflow} runs its failed and cancelled steps again, with a fresh budget of attempts; succeeded steps keep their output.
          </p>
          {replaying.error.retryable === false && (
            <Notice tone="warning">
              It failed with <code className="font-mono">{replaying.error.code}</code>, marked not retryable: {replaying.error.message}. Unless you changed what caused it, it will likely fail the same way.
            </Notice>
          )}
        </ConfirmDialog>
      )}
    </>
  );
}

export const deadLettersRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/dead-letters', component: DeadLettersPage });
