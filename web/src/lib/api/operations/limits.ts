import { graphql } from '../__generated__';

// Named rate limits of the organization, and the limits platform operators set for it (issue 10).

export const rateLimitsQuery = graphql(`
  query RateLimits {
    rateLimits { id name limit per used createdBy updatedAt }
  }
`);

export const createRateLimitMutation = graphql(`
  mutation CreateRateLimit($input: CreateRateLimitInput!) {
    createRateLimit(input: $input) { id name limit per }
  }
`);

export const updateRateLimitMutation = graphql(`
  mutation UpdateRateLimit($id: ID!, $input: UpdateRateLimitInput!) {
    updateRateLimit(id: $id, input: $input) { id name limit per }
  }
`);

export const deleteRateLimitMutation = graphql(`
  mutation DeleteRateLimit($id: ID!) {
    deleteRateLimit(id: $id) { id }
  }
`);

export const organizationLimitsQuery = graphql(`
  query OrganizationLimits {
    organizationLimits {
      runningTasksPerPool
      runsStartedPerMinute
      queuedTasks
      weight
      pools
      usage { runsStartedLastMinute queuedTasks runningTasks { pool running } }
    }
  }
`);
