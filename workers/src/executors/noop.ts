import { z } from 'zod';
import { defineExecutor, type ExecutorFactory, type JsonValue } from './types';

const anyJson = z.unknown();

/** Does nothing and succeeds at once; its output is its input, so it can also join (fan in) upstream outputs. */
export const createNoopExecutor: ExecutorFactory = () =>
  defineExecutor({
    capability: 'noop',
    description: 'succeeds at once; the output is the input',
    input: anyJson,
    run: (input) => Promise.resolve((input ?? null) as JsonValue),
  });
