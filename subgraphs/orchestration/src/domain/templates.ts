import { encodedJsonSize } from '@orchestra/lib';

/**
 * Step inputs may reference the run's input, upstream outputs and the organization's secrets:
 *   "{{ input.url }}", "{{ steps.fetch.output.body.items[0].name }}", "{{ run.id }}", "{{ secrets.API_KEY }}".
 * Secrets resolve only at dispatch (engine/dispatch-input.ts), never into anything stored.
 * A string that is exactly one template becomes the referenced value itself (any JSON type); a
 * template inside a longer string is interpolated (objects as JSON).
 */

export type PathSegment = string | number;

export type TemplateRef =
  | { root: 'input'; path: PathSegment[] }
  | { root: 'steps'; stepId: string; path: PathSegment[] }
  | { root: 'run'; path: PathSegment[] }
  | { root: 'secrets'; name: string; path: PathSegment[] }
  /** In a forEach step: the item this task runs for, and its place in the list. */
  | { root: 'item'; path: PathSegment[] }
  | { root: 'itemIndex'; path: PathSegment[] };

/** What a secret's name looks like (also checked by the secrets table). */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

/** A template that cannot be parsed or resolved; `expression` is its text between the braces. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  constructor(
    readonly expression: string,
    message: string,
  ) {
    super(message);
  }
}

const TEMPLATE = /\{\{\s*(.*?)\s*\}\}/g;
const WHOLE_TEMPLATE = /^\{\{\s*(.*?)\s*\}\}$/;
const SEGMENT = /^(?:\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\["([^"\\]*)"\]|\['([^'\\]*)'\])/;
const FIRST = /^([A-Za-z_$][\w$-]*)/;

/** Parses `a.b[0]["c d"]` into ['a', 'b', 0, 'c d']. */
export function parsePath(text: string): PathSegment[] {
  const first = FIRST.exec(text);
  if (!first) throw new TemplateError(text, `"{{ ${text} }}" is not a valid reference: expected a name such as input.url`);
  const segments: PathSegment[] = [first[1] as string];
  let rest = text.slice(first[0].length);
  while (rest.length > 0) {
    const m = SEGMENT.exec(rest);
    if (!m) throw new TemplateError(text, `"{{ ${text} }}" is not a valid reference near "${rest}"`);
    if (m[1] !== undefined) segments.push(m[1]);
    else if (m[2] !== undefined) segments.push(Number(m[2]));
    else segments.push((m[3] ?? m[4]) as string);
    rest = rest.slice(m[0].length);
  }
  return segments;
}

/** What a template expression refers to; throws TemplateError for anything else. */
export function parseTemplate(expression: string): TemplateRef {
  const path = parsePath(expression);
  const [root, ...rest] = path;
  if (root === 'input') return { root: 'input', path: rest };
  if (root === 'run') {
    if (rest.length !== 1 || rest[0] !== 'id') throw new TemplateError(expression, `"{{ ${expression} }}": the run offers only run.id`);
    return { root: 'run', path: rest };
  }
  if (root === 'steps') {
    const [stepId, output, ...outputPath] = rest;
    if (typeof stepId !== 'string' || output !== 'output') {
      throw new TemplateError(expression, `"{{ ${expression} }}": a step reference reads steps.<step id>.output[.path]`);
    }
    return { root: 'steps', stepId, path: outputPath };
  }
  if (root === 'secrets') {
    const [name, ...more] = rest;
    if (typeof name !== 'string' || !SECRET_NAME.test(name) || more.length > 0) {
      throw new TemplateError(expression, `"{{ ${expression} }}": a secret reference reads secrets.<NAME> (letters, digits and _), nothing after the name`);
    }
    return { root: 'secrets', name, path: [] };
  }
  if (root === 'item') return { root: 'item', path: rest };
  if (root === 'itemIndex') {
    if (rest.length > 0) throw new TemplateError(expression, `"{{ ${expression} }}": itemIndex is a number, nothing follows it`);
    return { root: 'itemIndex', path: [] };
  }
  throw new TemplateError(expression, `"{{ ${expression} }}": a reference starts with input., steps.<id>.output, run.id, secrets., item or itemIndex`);
}

/** Every template expression in a JSON value (in strings, at any depth). */
export function collectTemplates(value: unknown): string[] {
  const found: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(TEMPLATE)) found.push(m[1] as string);
    } else if (Array.isArray(v)) {
      v.forEach(walk);
    } else if (v !== null && typeof v === 'object') {
      Object.values(v as Record<string, unknown>).forEach(walk);
    }
  };
  walk(value);
  return found;
}

/** The secrets a value's templates read (malformed expressions are left to the validation that names them). */
export function referencedSecrets(value: unknown): string[] {
  const names = new Set<string>();
  for (const expression of collectTemplates(value)) {
    try {
      const ref = parseTemplate(expression);
      if (ref.root === 'secrets') names.add(ref.name);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
    }
  }
  return [...names];
}

/**
 * The steps whose outputs a value's templates read (what to load before resolving them). Expressions
 * that do not parse are left to resolveTemplates, which names them.
 */
export function referencedSteps(value: unknown): string[] {
  const steps = new Set<string>();
  for (const expression of collectTemplates(value)) {
    try {
      const ref = parseTemplate(expression);
      if (ref.root === 'steps') steps.add(ref.stepId);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
    }
  }
  return [...steps];
}

export interface TemplateContext {
  input: unknown;
  /** Outputs of the steps that already succeeded, by step id. */
  steps: Record<string, { output: unknown }>;
  run: { id: string };
  /** Secret values by name: present only when a dispatch resolves an input for the worker. */
  secrets?: Readonly<Record<string, string>>;
  /** The item of a forEach task (its value and its index in the list). */
  item?: { value: unknown; index: number };
}

const describe = (segments: readonly PathSegment[]): string =>
  segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');

function lookup(expression: string, context: TemplateContext): unknown {
  const ref = parseTemplate(expression);
  let value: unknown;
  let base: PathSegment[];
  switch (ref.root) {
    case 'input':
      value = context.input;
      base = ['input'];
      break;
    case 'run':
      return context.run.id;
    case 'itemIndex':
      if (!context.item) throw new TemplateError(expression, `"{{ ${expression} }}": itemIndex is set only in the tasks of a forEach step`);
      return context.item.index;
    case 'item':
      if (!context.item) throw new TemplateError(expression, `"{{ ${expression} }}": item is set only in the tasks of a forEach step`);
      value = context.item.value;
      base = ['item'];
      break;
    case 'secrets': {
      const secret = context.secrets && Object.hasOwn(context.secrets, ref.name) ? context.secrets[ref.name] : undefined;
      if (secret === undefined) throw new TemplateError(expression, `"{{ ${expression} }}": the organization has no secret "${ref.name}"`);
      return secret;
    }
    case 'steps': {
      const step = context.steps[ref.stepId];
      if (step === undefined) throw new TemplateError(expression, `"{{ ${expression} }}": step "${ref.stepId}" has no output (it has not succeeded)`);
      value = step.output;
      base = ['steps', ref.stepId, 'output'];
      break;
    }
  }
  const walked = [...base];
  for (const segment of ref.path) {
    const container = value;
    const has =
      typeof segment === 'number'
        ? Array.isArray(container) && segment < container.length
        : container !== null && typeof container === 'object' && !Array.isArray(container) && Object.hasOwn(container, segment);
    if (!has) throw new TemplateError(expression, `"{{ ${expression} }}": ${describe(walked)} has no ${typeof segment === 'number' ? `item [${segment}]` : `field "${segment}"`}`);
    value = typeof segment === 'number' ? (container as unknown[])[segment] : (container as Record<string, unknown>)[segment];
    walked.push(segment);
  }
  return value;
}

const interpolate = (value: unknown): string => (typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value));

/** A resolved input over its bounds (issue 9 item 8): the task fails without a retry. */
export class InputLimitError extends Error {
  override readonly name = 'InputLimitError';
  constructor(
    readonly code: 'INPUT_TOO_LARGE' | 'INPUT_TOO_DEEP',
    message: string,
  ) {
    super(message);
  }
}

/**
 * What resolving may produce, at most: every referenced value is counted (as encoded) each time it is
 * placed, before anything is copied or interpolated, so a template that places a large upstream output
 * thousands of times stops at the bound instead of building gigabytes.
 */
export interface ResolveBudget {
  maxBytes: number;
  used: number;
}

const sizes = new WeakMap<object, number>();
const spend = (budget: ResolveBudget | undefined, expression: string, value: unknown): void => {
  if (budget === undefined) return;
  let size = value !== null && typeof value === 'object' ? sizes.get(value) : undefined;
  if (size === undefined) {
    size = encodedJsonSize(value, budget.maxBytes);
    if (value !== null && typeof value === 'object') sizes.set(value, size);
  }
  budget.used += size;
  if (budget.used > budget.maxBytes) {
    throw new InputLimitError('INPUT_TOO_LARGE', `the input would be larger than ${budget.maxBytes} bytes once its templates are resolved (at "{{ ${expression} }}")`);
  }
};

/** The value with every template replaced; throws TemplateError naming the first that does not resolve (InputLimitError past `budget`). */
export function resolveTemplates(value: unknown, context: TemplateContext, budget?: ResolveBudget): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_TEMPLATE.exec(value);
    if (whole && !(whole[1] as string).includes('}}')) {
      const found = lookup(whole[1] as string, context);
      spend(budget, whole[1] as string, found);
      return found;
    }
    return value.replace(TEMPLATE, (_m, expression: string) => {
      const found = lookup(expression, context);
      spend(budget, expression, found);
      return interpolate(found);
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolveTemplates(v, context, budget));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, resolveTemplates(v, context, budget)]));
  }
  return value;
}
