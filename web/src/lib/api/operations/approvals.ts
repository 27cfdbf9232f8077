import { graphql } from '../__generated__';

/** Approval wait steps (issue 10): what the Approvals page, the nav badge and the task panel read and do. */

graphql(`
  fragment ApprovalFields on Approval {
    id
    stepId
    status
    message
    roles
    canDecide
    waitingSince
    deadline
    onTimeout
    decision
    decidedBy
    comment
    decidedAt
  }
`);

export const pendingApprovalsQuery = graphql(`
  query PendingApprovals($first: Int, $after: String) {
    pendingApprovals(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          ...ApprovalFields
          task { id }
          run { id status workflow { id name } }
        }
      }
    }
  }
`);

/** The nav badge: the count only (polled). */
export const pendingApprovalCountQuery = graphql(`
  query PendingApprovalCount {
    pendingApprovals(first: 1) { totalCount }
  }
`);

export const taskApprovalQuery = graphql(`
  query TaskApproval($id: ID!) {
    task(id: $id) { id approval { ...ApprovalFields } }
  }
`);

export const approveTaskMutation = graphql(`
  mutation ApproveTask($taskId: ID!, $comment: String) {
    approveTask(taskId: $taskId, comment: $comment) { id status }
  }
`);

export const rejectTaskMutation = graphql(`
  mutation RejectTask($taskId: ID!, $comment: String) {
    rejectTask(taskId: $taskId, comment: $comment) { id status }
  }
`);
