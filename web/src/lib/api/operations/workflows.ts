import { graphql } from '../__generated__';

graphql(`
  fragment StepFields on Step {
    id
    capability
    input
    dependsOn
    retry { maxAttempts initialDelayMs backoffFactor maxDelayMs }
    timeoutMs
    pool
    labels { key value }
  }
`);

export const workflowsQuery = graphql(`
  query Workflows($first: Int, $after: String, $filter: WorkflowFilter) {
    workflows(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          id
          name
          description
          updatedAt
          app { id name }
          latestVersion { number steps { id } }
        }
      }
    }
  }
`);

export const workflowQuery = graphql(`
  query Workflow($id: ID!) {
    workflow(id: $id) {
      id
      name
      description
      createdBy
      createdAt
      updatedAt
      app { id name }
      latestVersion { number }
      versions { number createdBy createdAt steps { ...StepFields } }
    }
  }
`);

export const capabilitiesQuery = graphql(`
  query Capabilities {
    capabilities
  }
`);

export const createWorkflowMutation = graphql(`
  mutation CreateWorkflow($input: CreateWorkflowInput!) {
    createWorkflow(input: $input) { id name latestVersion { number } }
  }
`);

export const publishWorkflowVersionMutation = graphql(`
  mutation PublishWorkflowVersion($workflowId: ID!, $steps: [StepInput!]!) {
    publishWorkflowVersion(workflowId: $workflowId, steps: $steps) { workflowId number }
  }
`);

export const startRunMutation = graphql(`
  mutation StartRun($input: StartRunInput!) {
    startRun(input: $input) { deduplicated run { id status } }
  }
`);
