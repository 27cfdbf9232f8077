import { graphql } from '../__generated__';

// Run metrics (issue 12): runs by status over time, durations, queue wait and what is failing.

export const runMetricsQuery = graphql(`
  query RunMetrics($from: DateTime!, $to: DateTime!, $bucket: MetricsBucket!, $workflowId: ID, $appId: ID, $workerId: ID) {
    runMetrics(from: $from, to: $to, bucket: $bucket, workflowId: $workflowId, appId: $appId, workerId: $workerId) {
      from
      to
      bucket
      buckets {
        start
        counts { total queued running succeeded failed cancelled scheduled failureRate p50DurationMs p95DurationMs p50QueueWaitMs p95QueueWaitMs }
      }
      totals { total queued running succeeded failed cancelled scheduled failureRate p50DurationMs p95DurationMs p50QueueWaitMs p95QueueWaitMs }
      failureCodes { code runs firstAt lastAt lastMessage lastRunId }
    }
  }
`);

// Slot usage per pool over time (issue 12): busy / total slots of each pool's online workers.
export const poolSlotUsageQuery = graphql(`
  query PoolSlotUsage($from: DateTime!, $to: DateTime!, $bucket: MetricsBucket!, $pool: String) {
    poolSlotUsage(from: $from, to: $to, bucket: $bucket, pool: $pool) {
      from
      to
      bucket
      pools {
        pool
        points { start busySlots peakBusySlots totalSlots utilization }
      }
    }
  }
`);
