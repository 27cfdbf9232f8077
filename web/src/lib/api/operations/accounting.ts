import { graphql } from '../__generated__';

// Accounting (issue 14): the organization's model usage for the usage page, and its model providers.

export const usageSeriesQuery = graphql(`
  query UsageSeries($from: DateTime!, $to: DateTime!, $splitBy: UsageSplitBy!) {
    usageSeries(from: $from, to: $to, splitBy: $splitBy) {
      day
      key
      app { id name }
      workflow { id name }
      calls
      failedCalls
      promptTokens
      completionTokens
      totalTokens
      costUsd
      gpuSeconds
    }
  }
`);

export const llmProvidersQuery = graphql(`
  query LlmProviders {
    llmProviders {
      id
      name
      baseUrl
      apiKeySecret
      models { alias model pricePer1MInput pricePer1MOutput }
      pricePer1MInput
      pricePer1MOutput
      requestsPerMinute
      tokensPerMinute
      timeoutMs
      workerLocal
      updatedAt
      updatedBy
    }
  }
`);

/** The secrets an API key may be chosen from (names only: values are never read back). */
export const providerSecretChoicesQuery = graphql(`
  query ProviderSecretChoices {
    secrets { id name }
  }
`);

export const createLlmProviderMutation = graphql(`
  mutation CreateLlmProvider($input: CreateLlmProviderInput!) {
    createLlmProvider(input: $input) { id name }
  }
`);

export const updateLlmProviderMutation = graphql(`
  mutation UpdateLlmProvider($id: ID!, $input: UpdateLlmProviderInput!) {
    updateLlmProvider(id: $id, input: $input) { id name }
  }
`);

export const deleteLlmProviderMutation = graphql(`
  mutation DeleteLlmProvider($id: ID!) {
    deleteLlmProvider(id: $id) { id name }
  }
`);

export const testLlmProviderMutation = graphql(`
  mutation TestLlmProvider($id: ID!, $model: String) {
    testLlmProvider(id: $id, model: $model) { ok model latencyMs message }
  }
`);
