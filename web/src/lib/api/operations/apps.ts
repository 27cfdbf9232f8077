import { graphql } from '../__generated__';

export const appsQuery = graphql(`
  query Apps($first: Int, $after: String, $filter: AppFilter, $orderBy: AppOrder) {
    apps(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          id
          slug
          name
          description
          status
          tags
          updatedAt
          health { status since uptime { ratio } }
        }
      }
    }
  }
`);

export const appQuery = graphql(`
  query App($id: ID!) {
    app(id: $id) {
      id
      slug
      name
      description
      status
      tags
      createdAt
      updatedAt
      healthCheckUrl
      owner { id email name }
      configSchema
      configSchemaVersion
      health {
        status
        since
        lastCheckedAt
        lastLatencyMs
        lastHttpStatus
        lastError
        checksTotal
        checksFailed
        monitoringSince
        day: uptime(windowSeconds: 86400) { ratio upSeconds downSeconds unknownSeconds }
        week: uptime(windowSeconds: 604800) { ratio }
        history(first: 20) { edges { node { id status previousStatus changedAt httpStatus error } } }
      }
      currentConfig { version }
      configVersions(first: 50) {
        edges { node { version config message schemaVersion createdAt isCurrent createdBy { email } } }
      }
      configActivations(first: 20) {
        edges { node { id version previousVersion kind reason activatedAt activatedBy { email } } }
      }
      stats(window: LAST_24_HOURS) { runs succeeded failed cancelled active successRate p50DurationMs p95DurationMs }
      workflows { id name }
    }
  }
`);

export const createAppMutation = graphql(`
  mutation CreateApp($input: CreateAppInput!) {
    createApp(input: $input) { id slug }
  }
`);

export const publishAppConfigMutation = graphql(`
  mutation PublishAppConfig($appId: ID!, $config: JSON!, $message: String) {
    publishAppConfig(id: $appId, config: $config, message: $message) { version }
  }
`);

export const rollbackAppConfigMutation = graphql(`
  mutation RollbackAppConfig($appId: ID!, $version: Int!, $reason: String) {
    rollbackAppConfig(id: $appId, version: $version, reason: $reason) { version isCurrent }
  }
`);

export const pauseAppMutation = graphql(`
  mutation PauseApp($id: ID!) {
    pauseApp(id: $id) { id status }
  }
`);

export const resumeAppMutation = graphql(`
  mutation ResumeApp($id: ID!) {
    resumeApp(id: $id) { id status }
  }
`);

export const archiveAppMutation = graphql(`
  mutation ArchiveApp($id: ID!) {
    archiveApp(id: $id) { id status }
  }
`);

export const restoreAppMutation = graphql(`
  mutation RestoreApp($id: ID!) {
    restoreApp(id: $id) { id status }
  }
`);

export const updateAppMutation = graphql(`
  mutation UpdateApp($id: ID!, $input: UpdateAppInput!) {
    updateApp(id: $id, input: $input) { id slug name description tags healthCheckUrl owner { id email name } }
  }
`);
