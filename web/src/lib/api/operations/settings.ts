import { graphql } from '../__generated__';

// Organization settings the admin app manages: secrets (write-only values) and outbound webhooks.

export const secretsQuery = graphql(`
  query Secrets {
    secrets { id name version createdAt createdBy updatedAt updatedBy lastUsedAt }
  }
`);

export const createSecretMutation = graphql(`
  mutation CreateSecret($name: String!, $value: String!) {
    createSecret(name: $name, value: $value) { id name version }
  }
`);

export const rotateSecretMutation = graphql(`
  mutation RotateSecret($name: String!, $value: String!) {
    rotateSecret(name: $name, value: $value) { id name version updatedAt }
  }
`);

export const deleteSecretMutation = graphql(`
  mutation DeleteSecret($name: String!) {
    deleteSecret(name: $name) { id name }
  }
`);

export const webhookEndpointsQuery = graphql(`
  query WebhookEndpoints {
    webhookEndpoints { id url description events enabled disabledAt disabledReason createdAt secretRotatedAt previousSecretExpiresAt }
    notificationEventTypes { type label }
  }
`);

export const webhookDeliveriesQuery = graphql(`
  query WebhookDeliveries($id: ID!, $first: Int, $after: String) {
    webhookEndpoint(id: $id) {
      id
      url
      deliveries(first: $first, after: $after) {
        nodes {
          id eventId eventType status attempts createdAt deliveredAt nextAttemptAt lastStatusCode lastLatencyMs lastResponseExcerpt lastError redeliveryOf
          attemptLog { attemptedAt statusCode latencyMs error succeeded }
        }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);

export const createWebhookEndpointMutation = graphql(`
  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {
    createWebhookEndpoint(input: $input) { secret endpoint { id url events } }
  }
`);

export const updateWebhookEndpointMutation = graphql(`
  mutation UpdateWebhookEndpoint($id: ID!, $input: UpdateWebhookEndpointInput!) {
    updateWebhookEndpoint(id: $id, input: $input) { id url description events enabled disabledAt }
  }
`);

export const deleteWebhookEndpointMutation = graphql(`
  mutation DeleteWebhookEndpoint($id: ID!) {
    deleteWebhookEndpoint(id: $id)
  }
`);

export const rotateWebhookSecretMutation = graphql(`
  mutation RotateWebhookSecret($id: ID!) {
    rotateWebhookSecret(id: $id) { secret endpoint { id secretRotatedAt previousSecretExpiresAt } }
  }
`);

export const redeliverWebhookMutation = graphql(`
  mutation RedeliverWebhook($deliveryId: ID!) {
    redeliverWebhook(deliveryId: $deliveryId) { id status }
  }
`);
