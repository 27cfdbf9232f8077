import { LLM_FAILURE_CODES, NonRetryableError, llmInputSchema, type LlmInput } from '@orchestra/lib/worker';
import type { ChatCompletionMessageParam, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions/completions';
import { createJsonAnswerCheck } from './llm/json-answer';
import type { ModelResult, TokenSink } from './llm/model-gateway';
import type { ChatRequestBody, ProviderToolCall } from './llm/provider-call';
import { defineExecutor, type ExecutorContext, type ExecutorFactory, type JsonValue, type ModelCallRecord } from './types';

/**
 * `llm`: a chat completion against the organization's OpenAI-compatible providers, streamed: the
 * tokens reach the run's subscribers as they come (ctx.delta), the output holds the whole answer
 * (text, or JSON checked against a schema with one re-ask), which provider and model answered,
 * the usage and cost. See README.md beside this file.
 */

/** What the step's input becomes on the wire (OpenAI's chat completion request body). */
export function chatBody(input: LlmInput): ChatRequestBody {
  const format = input.responseFormat;
  const toolChoice: ChatCompletionToolChoiceOption | undefined =
    input.toolChoice === undefined ? undefined : typeof input.toolChoice === 'string' ? input.toolChoice : { type: 'function', function: { name: input.toolChoice.name } };
  return {
    messages: input.messages as ChatCompletionMessageParam[],
    ...(input.temperature === undefined ? {} : { temperature: input.temperature }),
    ...(input.maxTokens === undefined ? {} : { max_tokens: input.maxTokens }),
    ...(input.stop === undefined ? {} : { stop: input.stop }),
    ...(input.tools === undefined || input.tools.length === 0
      ? {}
      : { tools: input.tools.map((t) => ({ type: 'function' as const, function: { name: t.function.name, ...(t.function.description === undefined ? {} : { description: t.function.description }), ...(t.function.parameters === undefined ? {} : { parameters: t.function.parameters }) } })) }),
    ...(toolChoice === undefined ? {} : { tool_choice: toolChoice }),
    ...(format.type === 'json' ? { response_format: { type: 'json_object' as const } } : {}),
    ...(format.type === 'jsonSchema' ? { response_format: { type: 'json_schema' as const, json_schema: { name: format.name, schema: format.schema, strict: false } } } : {}),
  };
}

/** Streams tokens as ctx.delta; after `restart()` the next token abandons what was sent before. */
export function deltaSink(ctx: ExecutorContext): TokenSink & { readonly written: boolean } {
  let written = false;
  let restartNext = false;
  return {
    write(text) {
      if (text === '') return;
      ctx.delta(text, restartNext ? { restart: true } : undefined);
      restartNext = false;
      written = true;
    },
    restart() {
      if (written) restartNext = true;
    },
    get written() {
      return written;
    },
  };
}

/** Sums what the attempt's model calls spent while passing each one on for accounting. */
export function usageMeter(ctx: ExecutorContext): { ctx: ExecutorContext; totals: () => { promptTokens: number; completionTokens: number; costUsd: number; calls: number } } {
  let promptTokens = 0;
  let completionTokens = 0;
  let costUsd = 0;
  let calls = 0;
  return {
    ctx: {
      ...ctx,
      modelCall(call: ModelCallRecord) {
        promptTokens += call.promptTokens;
        completionTokens += call.completionTokens;
        costUsd += call.costUsd;
        calls += 1;
        ctx.modelCall(call);
      },
    },
    totals: () => ({ promptTokens, completionTokens, costUsd: Math.round(costUsd * 1e8) / 1e8, calls }),
  };
}

export const tokensPerSecond = (completionTokens: number, durationMs: number, ttftMs: number): number => {
  const generating = Math.max(1, durationMs - ttftMs);
  return Math.round((completionTokens / (generating / 1000)) * 10) / 10;
};

const parsedToolCalls = (calls: readonly ProviderToolCall[]): JsonValue[] =>
  calls.map((c) => {
    let args: JsonValue;
    try {
      args = JSON.parse(c.arguments) as JsonValue;
    } catch {
      args = c.arguments;
    }
    return { id: c.id, name: c.name, arguments: args };
  });

export const createLlmExecutor: ExecutorFactory = ({ llm }) =>
  defineExecutor({
    capability: 'llm',
    description: 'a chat completion on the organization\'s OpenAI-compatible providers, streamed, with fallback and accounting',
    input: llmInputSchema,
    async run(input, outer) {
      const { ctx, totals } = usageMeter(outer);
      const providers = input.providers ?? [input.provider as string];
      const format = input.responseFormat;
      const check = format.type === 'text' ? undefined : await createJsonAnswerCheck(format.type === 'jsonSchema' ? format.schema : undefined);
      const sink = deltaSink(ctx);
      const body = chatBody(input);
      ctx.progress(0, `asking ${input.model} (${providers.join(' → ')})`);

      const ask = (messages: ChatRequestBody['messages']): Promise<ModelResult> =>
        llm.models.complete(ctx, { providers, model: input.model, body: { ...body, messages }, stream: input.stream, timeoutMs: input.timeoutMs, sink });

      let result = await ask(body.messages);
      let json: unknown;
      let reasked = false;
      if (check && result.answer.toolCalls.length === 0) {
        const first = check(result.answer.text);
        if (first.ok) json = first.value;
        else {
          ctx.log('warn', `the answer does not match the ${format.type === 'jsonSchema' ? 'schema' : 'JSON format'} (${first.problem}): asking again`);
          sink.restart();
          reasked = true;
          result = await ask([
            ...body.messages,
            { role: 'assistant', content: result.answer.text },
            {
              role: 'user',
              content: `Your answer is not valid: ${first.problem}. Reply again with only the corrected JSON${format.type === 'jsonSchema' ? ' matching the schema' : ''}, nothing else.`,
            },
          ]);
          const second = check(result.answer.text);
          if (!second.ok) throw new NonRetryableError(LLM_FAILURE_CODES.INVALID_MODEL_OUTPUT, `the model's answer is invalid after a re-ask: ${second.problem}`);
          json = second.value;
        }
      }

      const { answer } = result;
      const spent = totals();
      ctx.progress(1, `${result.provider} answered (${answer.completionTokens} tokens)`);
      return {
        text: answer.text,
        ...(json === undefined ? {} : { json: json as JsonValue }),
        ...(answer.toolCalls.length > 0 ? { toolCalls: parsedToolCalls(answer.toolCalls) } : {}),
        finishReason: answer.finishReason,
        provider: result.provider,
        model: answer.model,
        usage: { promptTokens: spent.promptTokens, completionTokens: spent.completionTokens, totalTokens: spent.promptTokens + spent.completionTokens, estimated: answer.usageEstimated },
        costUsd: spent.costUsd,
        ttftMs: answer.ttftMs,
        tokensPerSecond: tokensPerSecond(answer.completionTokens, answer.durationMs, answer.ttftMs),
        ...(result.skipped.length > 0 ? { skipped: result.skipped.map((s) => ({ provider: s.provider, code: s.code, message: s.message })) } : {}),
        ...(reasked ? { reasked: true } : {}),
      };
    },
  });
