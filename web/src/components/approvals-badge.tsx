import { useApiQuery } from '../hooks/use-api';
import { pendingApprovalCountQuery } from '../lib/api/operations/approvals';
import { queryKeys } from '../lib/api/query-keys';

/** How often the nav looks again at the count (a cheap count query; deciding one refreshes it at once). */
const POLL_MS = 15_000;

/** The count of approvals waiting for me, beside the nav's Approvals link (nothing when none). */
export function ApprovalsBadge() {
  const count = useApiQuery(queryKeys.approvals.count, pendingApprovalCountQuery, {}, { refetchInterval: POLL_MS });
  const n = count.data?.pendingApprovals.totalCount ?? 0;
  if (n === 0) return null;
  return (
    <span className="ml-auto rounded-full bg-amber-500 px-1.5 text-[11px] font-semibold tabular-nums text-on-accent" data-testid="approvals-badge" aria-label={`${n} waiting`}>
      {n > 99 ? '99+' : n}
    </span>
  );
}
