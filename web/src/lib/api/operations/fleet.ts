import { graphql } from '../__generated__';

export const workersQuery = graphql(`
  query Workers($filter: WorkerFilter) {
    workers(filter: $filter) {
      id
      endpoint
      pool
      capabilities
      slotsTotal
      slotsFree
      running
      labels { key value }
      version
      llmEndpoints
      status
      registeredAt
      lastHeartbeatAt
      leaseExpiresAt
      resources {
        cpuCount
        cpuLoad
        memoryTotalBytes
        memoryUsedBytes
        gpus { index model memoryTotalBytes memoryUsedBytes utilizationPercent }
      }
    }
  }
`);
