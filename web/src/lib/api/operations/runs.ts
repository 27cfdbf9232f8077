import { graphql } from '../__generated__';

graphql(`
  fragment RunSummaryFields on Run {
    id
    status
    workflowVersion
    workflow { id name }
    startedByName
    createdAt
    startedAt
    finishedAt
    durationMs
    error { code message stepId }
  }
`);

graphql(`
  fragment TaskRowFields on Task {
    id
    stepId
    capability
    status
    dependsOn
    error { code message retryable stepId }
    attempts
    maxAttempts
    progress
    progressMessage
    pool
    workerId
    gpus { index model memoryMiB }
    waitReason { kind message since }
    queuedAt
    startedAt
    finishedAt
    durationMs
    # Only what counting attempts across restarts needs ("1/3 · 2 in all"); the panel fetches the rest.
    attemptHistory { number queuedAt }
    # A forEach step's items by status (its items themselves are paged: TaskItems).
    itemCounts { ...ItemCountFields }
  }
`);

graphql(`
  fragment ItemCountFields on TaskItemCounts {
    total
    pending
    queued
    running
    succeeded
    failed
    cancelled
  }
`);

/** What only the open task's panel shows: fetched when it opens, not with the run. */
graphql(`
  fragment TaskFields on Task {
    ...TaskRowFields
    itemIndex
    input
    output
    # What its attempts spent: model calls (llm, browser.agent) and GPU time.
    usage { calls failedCalls promptTokens completionTokens costUsd gpuSeconds }
    attemptHistory {
      id
      number
      status
      workerId
      queuedAt
      startedAt
      finishedAt
      durationMs
      error { code message }
    }
  }
`);

export const runsQuery = graphql(`
  query Runs($first: Int, $after: String, $filter: RunFilter) {
    runs(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { ...RunSummaryFields idempotencyKey } }
    }
  }
`);

/** What "Run again" starts from: the run's workflow and input. */
export const runAgainSourceQuery = graphql(`
  query RunAgainSource($id: ID!) {
    run(id: $id) { id input workflowVersion workflow { id name versions { number } } }
  }
`);

export const cancelRunsMutation = graphql(`
  mutation CancelRuns($ids: [ID!]!, $reason: String) {
    cancelRuns(ids: $ids, reason: $reason) { id run { id status cancelReason } error { code reason message } }
  }
`);

export const retryRunsMutation = graphql(`
  mutation RetryRuns($ids: [ID!]!) {
    retryRuns(ids: $ids) { id run { id status } error { code reason message } }
  }
`);

export const runQuery = graphql(`
  query Run($id: ID!) {
    run(id: $id) {
      ...RunSummaryFields
      input
      output
      idempotencyKey
      cancelReason
      lastSeq
      app { id name }
      tasks { ...TaskRowFields }
    }
  }
`);

/** One task in full (the open task's panel). */
export const taskDetailQuery = graphql(`
  query TaskDetail($id: ID!) {
    task(id: $id) { ...TaskFields }
  }
`);

/**
 * Why the run's tasks wait (this changes without events: a worker joins, a limit frees up): only
 * what a wait reason needs, looked at again now and then while some task waits.
 */
export const runWaitsQuery = graphql(`
  query RunWaits($id: ID!) {
    run(id: $id) {
      id
      tasks { id status waitReason { kind message since } }
    }
  }
`);

/**
 * The item counts of the run's forEach steps and the seq they reflect: fetched when a step expands
 * its list after the run was fetched (live events then keep the counts current).
 */
export const runItemCountsQuery = graphql(`
  query RunItemCounts($id: ID!) {
    run(id: $id) {
      id
      lastSeq
      tasks { id itemCounts { ...ItemCountFields } }
    }
  }
`);

/** A page of a forEach step's item tasks (in item order, optionally of one status). */
export const taskItemsQuery = graphql(`
  query TaskItems($id: ID!, $first: Int, $after: String, $status: TaskStatus) {
    task(id: $id) {
      id
      items(first: $first, after: $after, status: $status) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { ...TaskRowFields itemIndex } }
      }
    }
  }
`);

export const taskLogsQuery = graphql(`
  query TaskLogs($id: ID!, $afterSeq: Int, $first: Int) {
    task(id: $id) {
      id
      logs(afterSeq: $afterSeq, first: $first) { seq at level message attempt }
    }
  }
`);

export const cancelRunMutation = graphql(`
  mutation CancelRun($id: ID!, $reason: String) {
    cancelRun(id: $id, reason: $reason) { id status cancelReason }
  }
`);

export const retryRunMutation = graphql(`
  mutation RetryRun($id: ID!) {
    retryRun(id: $id) { id status }
  }
`);

export const deadLettersQuery = graphql(`
  query DeadLetters($first: Int, $after: String, $filter: DeadLetterFilter) {
    deadLetters(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          id
          stepId
          attempts
          createdAt
          replayedAt
          replayedBy
          discardedAt
          discardedBy
          error { code message retryable }
          run { id status workflow { id name } }
        }
      }
    }
  }
`);

export const deadLetterGroupsQuery = graphql(`
  query DeadLetterGroups {
    deadLetterGroups { errorCode stepId count lastAt message workflow { id name } }
  }
`);

export const replayDeadLettersMutation = graphql(`
  mutation ReplayDeadLetters($ids: [ID!]!) {
    replayDeadLetters(ids: $ids) { id deadLetter { id replayedAt run { id status } } error { code reason message } }
  }
`);

export const discardDeadLettersMutation = graphql(`
  mutation DiscardDeadLetters($ids: [ID!]!) {
    discardDeadLetters(ids: $ids) { id deadLetter { id discardedAt } error { code reason message } }
  }
`);

export const replayDeadLetterMutation = graphql(`
  mutation ReplayDeadLetter($id: ID!) {
    replayDeadLetter(id: $id) { id status }
  }
`);

/**
 * A run's live events in batches (one message per ~200 ms window: at thousands of tasks the events
 * are most of what the page receives, and a batch compresses to a fraction of its events one by one),
 * as little of each as the page uses: no run id (the page knows it), a model's streamed output (with
 * the attempt it belongs to) only when the run has a step that streams one (`withOutput`), and the
 * progress of only the run's own step tasks when it has forEach items (`progressOf`: the page counts
 * items by status, it never shows an item's progress live).
 */
export const runEventBatchesSubscription = graphql(`
  subscription RunEventBatches($runId: ID!, $afterSeq: Int!, $withOutput: Boolean!, $progressOf: [ID!]) {
    runEventBatches(runId: $runId, afterSeq: $afterSeq, progressOf: $progressOf) {
      lastSeq
      events {
        seq
        kind
        at
        runStatus
        taskId
        stepId
        taskStatus
        attempt
        progress
        message
        level
        error { code message retryable stepId }
        attemptId @include(if: $withOutput)
        outputDelta @include(if: $withOutput) { seq offset text restart }
      }
    }
  }
`);

export const taskStreamedOutputQuery = graphql(`
  query TaskStreamedOutput($id: ID!) {
    task(id: $id) {
      id
      streamedOutput { attemptId text throughSeq deltaSeq }
    }
  }
`);

export const runStatusChangedSubscription = graphql(`
  subscription RunStatusChanged($workflowId: ID) {
    runStatusChanged(workflowId: $workflowId) {
      seq
      runId
      runStatus
      run { ...RunSummaryFields }
    }
  }
`);

export const taskArtifactsQuery = graphql(`
  query TaskArtifacts($id: ID!) {
    task(id: $id) {
      id
      attemptHistory { id number artifacts { id name contentType sizeBytes sha256 createdAt downloadUrl } }
    }
  }
`);
