import type { LlmModelAlias, LlmProviderInput } from '../domain/llm-providers';
import { createLlmProvider, deleteLlmProvider, updateLlmProvider } from '../llm/provider-commands';
import { testLlmProvider } from '../llm/provider-test';
import { listLlmProviders, type LlmProviderRow } from '../store/llm-providers';
import type { OrchestrationContext as Ctx } from './index';

/** GraphQL of model steps (issue 14): the organization's providers. */
export const llmResolvers = {
  Query: {
    llmProviders: (_: unknown, _args: unknown, ctx: Ctx) => ctx.engine.inTenant(ctx.principal, (tx) => listLlmProviders(tx)),
  },

  Mutation: {
    createLlmProvider: (_: unknown, { input }: { input: LlmProviderInput }, ctx: Ctx) => createLlmProvider(ctx.engine, ctx.principal, input),
    updateLlmProvider: (_: unknown, args: { id: string; input: LlmProviderInput }, ctx: Ctx) => updateLlmProvider(ctx.engine, ctx.principal, args.id, args.input),
    deleteLlmProvider: (_: unknown, args: { id: string }, ctx: Ctx) => deleteLlmProvider(ctx.engine, ctx.principal, args.id),
    testLlmProvider: (_: unknown, args: { id: string; model?: string | null }, ctx: Ctx) => testLlmProvider(ctx.engine, ctx.principal, args.id, args.model),
  },

  LlmProvider: {
    pricePer1MInput: (p: LlmProviderRow) => p.inputPricePerMillion,
    pricePer1MOutput: (p: LlmProviderRow) => p.outputPricePerMillion,
  },

  LlmModelAlias: {
    pricePer1MInput: (m: LlmModelAlias) => m.inputPricePerMillion ?? null,
    pricePer1MOutput: (m: LlmModelAlias) => m.outputPricePerMillion ?? null,
  },
};
