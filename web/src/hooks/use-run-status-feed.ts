import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import type { RunsQuery } from '../lib/api/__generated__/graphql';
import { runStatusChangedSubscription } from '../lib/api/operations/runs';
import { queryKeys } from '../lib/api/query-keys';
import { useServices } from './services';

/**
 * The organization's run-status feed, mounted once by the signed-in layout (again per organization): every runs list in the
 * cache gets the new status at once, and lists are refetched (at most once a second) so new runs
 * appear and filters hold.
 */
export function useRunStatusFeed(organizationId: string | undefined): void {
  const { live } = useServices();
  const queryClient = useQueryClient();
  useEffect(() => {
    if (organizationId === undefined) return;
    let refetchTimer: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = live.subscribe(runStatusChangedSubscription, {}, {
      next: ({ runStatusChanged: event }) => {
        queryClient.setQueriesData<RunsQuery>({ queryKey: queryKeys.runs.lists }, (data) => {
          if (!data) return data;
          const edges = data.runs.edges.map((edge) => {
            if (edge.node.id !== event.runId) return edge;
            return { ...edge, node: { ...edge.node, ...event.run } };
          });
          return { ...data, runs: { ...data.runs, edges } };
        });
        // Then refetch: a new run must appear, and a filtered list may no longer hold this one.
        if (refetchTimer === undefined) {
          refetchTimer = setTimeout(() => {
            refetchTimer = undefined;
            void queryClient.invalidateQueries({ queryKey: queryKeys.runs.lists });
          }, 1_000);
        }
        if (event.runStatus === 'FAILED') void queryClient.invalidateQueries({ queryKey: queryKeys.deadLetters.all });
      },
      // The feed is a convenience for lists; pages still load without it, so errors stay quiet here.
      error: () => undefined,
    });
    return () => {
      unsubscribe();
      if (refetchTimer !== undefined) clearTimeout(refetchTimer);
    };
  }, [organizationId, live, queryClient]);
}
