import type { ChatCompletionTool } from 'openai/resources/chat/completions/completions';
import { z } from 'zod';

/**
 * The tools the model drives the browser with, one call per step: as OpenAI function tools (what
 * the model is offered) and as zod schemas (what the worker accepts: a call that does not parse is
 * fed back to the model as an error naming the argument, it never reaches the page).
 */

const REF = /^e\d{1,6}$/;
const ref = z.string({ error: 'expects an element ref such as "e12" from the latest observation' }).regex(REF, { error: 'expects an element ref such as "e12" from the latest observation' });
const httpUrl = z
  .string({ error: 'expects an http or https URL' })
  .max(8_192)
  .refine(
    (value) => {
      try {
        const { protocol } = new URL(value);
        return protocol === 'http:' || protocol === 'https:';
      } catch {
        return false;
      }
    },
    { error: 'expects an absolute http or https URL' },
  );

export const MAX_WAIT_MS = 10_000;

export const toolArguments = {
  navigate: z.object({ url: httpUrl }),
  click: z.object({ ref }),
  type: z
    .object({ ref, text: z.string().max(10_000).optional(), secret: z.string().max(64).optional(), submit: z.boolean().default(false) })
    .refine((a) => (a.text === undefined) !== (a.secret === undefined), { error: 'expects exactly one of text and secret', path: ['text'] }),
  select: z.object({ ref, option: z.string({ error: 'expects the option to choose (its text or value)' }).max(1_000) }),
  scroll: z.object({ direction: z.enum(['up', 'down'], { error: 'expects "up" or "down"' }) }),
  extract: z.object({ ref: ref.optional(), selector: z.string().min(1).max(1_000).optional() }),
  wait: z.object({ ms: z.number().int().min(0).max(MAX_WAIT_MS, { error: `expects at most ${MAX_WAIT_MS} ms` }) }),
  screenshot: z.object({ name: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, { error: 'expects 1-40 letters, digits, _ or -' }).optional() }),
  done: z.object({ result: z.unknown().refine((v) => v !== undefined, { error: 'expects the result' }) }),
  fail: z.object({ reason: z.string({ error: 'expects the reason as text' }).min(1).max(2_000) }),
} as const;

export type ToolName = keyof typeof toolArguments;
export type ToolCall = { [K in ToolName]: { name: K; args: z.infer<(typeof toolArguments)[K]> } }[ToolName];

const refParam = { type: 'string', description: 'the ref of an element in the latest observation, e.g. "e12"' };

const fn = (name: ToolName, description: string, properties: Record<string, unknown>, required: string[]): ChatCompletionTool => ({
  type: 'function',
  function: { name, description, parameters: { type: 'object', properties, required, additionalProperties: false } },
});

export const AGENT_TOOLS: ChatCompletionTool[] = [
  fn('navigate', 'Open a URL in the page.', { url: { type: 'string', description: 'an absolute http(s) URL' } }, ['url']),
  fn('click', 'Click an element.', { ref: refParam }, ['ref']),
  fn(
    'type',
    'Type into a text field (replacing what it holds): either literal text, or a secret by its name (its value is typed for you and never shown to you).',
    { ref: refParam, text: { type: 'string' }, secret: { type: 'string', description: 'the name of one of the secrets listed in the goal' }, submit: { type: 'boolean', description: 'press Enter afterwards' } },
    ['ref'],
  ),
  fn('select', 'Choose an option of a select element.', { ref: refParam, option: { type: 'string', description: "the option's text or value" } }, ['ref', 'option']),
  fn('scroll', 'Scroll the page by most of a screen.', { direction: { type: 'string', enum: ['up', 'down'] } }, ['direction']),
  fn('extract', "Read the full text of an element (by ref or CSS selector) or, with neither, of the whole page.", { ref: refParam, selector: { type: 'string' } }, []),
  fn('wait', 'Wait a moment for the page to change.', { ms: { type: 'integer', minimum: 0, maximum: MAX_WAIT_MS } }, ['ms']),
  fn('screenshot', 'Keep a screenshot of the page as a file of the task.', { name: { type: 'string' } }, []),
  fn('done', 'The goal is reached: give the result the task should return (text or JSON).', { result: { description: 'the answer: text, or a JSON object or array' } }, ['result']),
  fn('fail', 'The goal cannot be reached: say why.', { reason: { type: 'string' } }, ['reason']),
];

export type ParsedToolCall = { ok: true; call: ToolCall } | { ok: false; problem: string };

/** A tool call as the model wrote it, checked: an unknown tool or bad arguments is a problem to tell the model. */
export function parseToolCall(name: string, rawArguments: string): ParsedToolCall {
  if (!Object.hasOwn(toolArguments, name)) return { ok: false, problem: `there is no tool "${name.slice(0, 64)}" (the tools: ${Object.keys(toolArguments).join(', ')})` };
  let args: unknown;
  try {
    args = rawArguments.trim() === '' ? {} : JSON.parse(rawArguments);
  } catch {
    return { ok: false, problem: `the arguments of ${name} are not JSON` };
  }
  const parsed = toolArguments[name as ToolName].safeParse(args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.length ? issue.path.join('.') : 'arguments';
    return { ok: false, problem: `${name}: ${at} ${issue?.message ?? 'is not valid'}` };
  }
  return { ok: true, call: { name, args: parsed.data } as ToolCall };
}

/** How a call is named in logs, progress and the step list: never a secret's value (its name only). */
export function describeCall(call: ToolCall, elementLabel?: string): string {
  const target = (r: string) => (elementLabel ? `[${r}] ${elementLabel}` : `[${r}]`);
  switch (call.name) {
    case 'navigate':
      return `navigate ${call.args.url}`;
    case 'click':
      return `click ${target(call.args.ref)}`;
    case 'type':
      return `type ${call.args.secret !== undefined ? `secret ${call.args.secret}` : JSON.stringify(call.args.text?.slice(0, 80))} into ${target(call.args.ref)}${call.args.submit ? ' and submit' : ''}`;
    case 'select':
      return `select ${JSON.stringify(call.args.option.slice(0, 80))} in ${target(call.args.ref)}`;
    case 'scroll':
      return `scroll ${call.args.direction}`;
    case 'extract':
      return `extract ${call.args.ref !== undefined ? target(call.args.ref) : call.args.selector !== undefined ? call.args.selector : 'the page'}`;
    case 'wait':
      return `wait ${call.args.ms} ms`;
    case 'screenshot':
      return `screenshot${call.args.name === undefined ? '' : ` ${call.args.name}`}`;
    case 'done':
      return 'done';
    case 'fail':
      return `fail: ${call.args.reason.slice(0, 200)}`;
  }
}
