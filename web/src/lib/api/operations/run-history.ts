import { graphql } from '../__generated__';

/**
 * The run page's Timeline and Events tabs (issue 12). Their own selections, apart from the live
 * page's compact ones in runs.ts: a tab is loaded only while it is open.
 */

graphql(`
  fragment TimelineAttemptFields on TaskAttempt {
    id
    number
    taskId
    stepId
    itemIndex
    status
    workerId
    queuedAt
    startedAt
    finishedAt
    error { code message }
  }
`);

/** Every attempt of a run, a page at a time in the order they were made; the run's seq for following it live from there. */
export const runAttemptsQuery = graphql(`
  query RunAttempts($id: ID!, $first: Int, $after: String) {
    run(id: $id) {
      id
      lastSeq
      attempts(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { ...TimelineAttemptFields } }
      }
    }
  }
`);

/** One task's attempts in full (a bar hovered that started after it was fetched: its worker). */
export const taskAttemptsQuery = graphql(`
  query TaskAttempts($id: ID!) {
    task(id: $id) { id attemptHistory { ...TimelineAttemptFields } }
  }
`);

graphql(`
  fragment EventLogFields on RunEvent {
    seq
    kind
    at
    taskId
    stepId
    runStatus
    taskStatus
    attemptId
    attempt
    message
    level
    error { code message }
    outputDelta { text }
    waitReason { kind message }
  }
`);

/** A page of a run's events after a seq. */
export const runEventLogQuery = graphql(`
  query RunEventLog($id: ID!, $afterSeq: Int, $first: Int) {
    run(id: $id) {
      id
      lastSeq
      events(afterSeq: $afterSeq, first: $first) { ...EventLogFields }
    }
  }
`);

/** The run's events after a seq, as they happen (the tab's own subscription: it lives only while the tab is open). */
export const runEventLogSubscription = graphql(`
  subscription RunEventLogLive($runId: ID!, $afterSeq: Int!) {
    runEventBatches(runId: $runId, afterSeq: $afterSeq) { lastSeq events { ...EventLogFields } }
  }
`);
