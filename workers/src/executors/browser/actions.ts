import { ARTIFACT_NAME } from '@orchestra/lib/worker';
import { z } from 'zod';

/** The browser step's input: a script of actions, checked whole before anything runs. */

const MAX_ACTIONS = 200;
const selector = z.string({ error: 'expects a selector' }).min(1, { error: 'expects a selector' }).max(2_000, { error: 'expects at most 2000 characters' });
const httpUrl = z
  .string({ error: 'expects an http or https URL' })
  .max(8_192, { error: 'expects at most 8192 characters' })
  .refine(
    (value) => {
      try {
        const { protocol } = new URL(value);
        return protocol === 'http:' || protocol === 'https:';
      } catch {
        return false;
      }
    },
    { error: 'expects an http or https URL (file:, javascript:, data: and others are refused)' },
  );
const artifactName = z
  .string({ error: 'expects an artifact name' })
  .regex(ARTIFACT_NAME, { error: 'expects 1-100 letters, digits, . _ -' })
  .refine((v) => v !== '.' && v !== '..', { error: 'expects a file name' });
const timeoutMs = z.number().int().min(1).max(300_000);

export const gotoAction = z.strictObject({
  action: z.literal('goto'),
  url: httpUrl,
  waitUntil: z.enum(['load', 'domcontentloaded', 'networkidle', 'commit']).default('load'),
  timeoutMs: timeoutMs.optional(),
});
const clickAction = z.strictObject({
  action: z.literal('click'),
  selector,
  /** The click starts a download: keep it as an artifact (downloads are refused otherwise). */
  download: z.boolean().default(false),
  /** The download's artifact name (default the name the site suggests). */
  name: artifactName.optional(),
  timeoutMs: timeoutMs.optional(),
});
const fillAction = z.strictObject({ action: z.literal('fill'), selector, value: z.string().max(100_000), timeoutMs: timeoutMs.optional() });
const pressAction = z.strictObject({ action: z.literal('press'), selector: selector.optional(), key: z.string().min(1).max(100), timeoutMs: timeoutMs.optional() });
const selectAction = z.strictObject({
  action: z.literal('select'),
  selector,
  value: z.union([z.string().max(10_000), z.array(z.string().max(10_000)).max(100)]),
  timeoutMs: timeoutMs.optional(),
});
const checkAction = z.strictObject({ action: z.literal('check'), selector, timeoutMs: timeoutMs.optional() });
const uncheckAction = z.strictObject({ action: z.literal('uncheck'), selector, timeoutMs: timeoutMs.optional() });
const waitForAction = z
  .strictObject({
    action: z.literal('waitFor'),
    selector: selector.optional(),
    /** A regular expression the page's URL must match. */
    urlMatches: z
      .string()
      .min(1)
      .max(1_000)
      .refine(
        (v) => {
          try {
            new RegExp(v);
            return true;
          } catch {
            return false;
          }
        },
        { error: 'expects a regular expression' },
      )
      .optional(),
    ms: z.number().int().min(0).max(600_000).optional(),
    timeoutMs: timeoutMs.optional(),
  })
  .refine((a) => [a.selector, a.urlMatches, a.ms].filter((v) => v !== undefined).length === 1, {
    error: 'expects exactly one of selector, urlMatches, ms',
    path: ['selector'],
  });
const extractAction = z
  .strictObject({
    action: z.literal('extract'),
    /** The key of the step's output `extracted` that gets the value. */
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/, { error: 'expects 1-64 letters, digits, _ - (not starting with a digit)' }),
    selector,
    /** An attribute's value instead of the text. */
    attribute: z.string().min(1).max(200).optional(),
    /** The text (the default). */
    text: z.boolean().optional(),
    /** Every match, as a list (at most 1000). */
    all: z.boolean().default(false),
    /** A <table>: its rows as objects keyed by the header cells. */
    table: z.boolean().default(false),
    timeoutMs: timeoutMs.optional(),
  })
  .refine((a) => !(a.table && a.attribute !== undefined), { error: 'expects either table or attribute', path: ['table'] });
const screenshotAction = z.strictObject({
  action: z.literal('screenshot'),
  name: artifactName,
  fullPage: z.boolean().default(false),
  selector: selector.optional(),
  timeoutMs: timeoutMs.optional(),
});
const pdfAction = z.strictObject({ action: z.literal('pdf'), name: artifactName, timeoutMs: timeoutMs.optional() });

export const browserAction = z.discriminatedUnion(
  'action',
  [gotoAction, clickAction, fillAction, pressAction, selectAction, checkAction, uncheckAction, waitForAction, extractAction, screenshotAction, pdfAction],
  { error: 'expects action to be one of goto, click, fill, press, select, check, uncheck, waitFor, extract, screenshot, pdf' },
);
export type BrowserAction = z.infer<typeof browserAction>;

export const browserInput = z.strictObject({
  actions: z.array(browserAction).min(1, { error: 'expects at least one action' }).max(MAX_ACTIONS, { error: `expects at most ${MAX_ACTIONS} actions` }),
  viewport: z.strictObject({ width: z.number().int().min(100).max(4_096), height: z.number().int().min(100).max(4_096) }).default({ width: 1280, height: 800 }),
  userAgent: z.string().min(1).max(512).optional(),
  locale: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, { error: 'expects a locale such as en-US' }).optional(),
  /** Longest wait of one action (a selector to appear, a navigation), unless the action says otherwise. */
  timeoutMs: timeoutMs.default(30_000),
  /** false: a failing action is recorded in the output's `errors` and the script goes on. */
  stopOnError: z.boolean().default(true),
});
export type BrowserInput = z.infer<typeof browserInput>;

/** How an action is named in progress, logs and errors: never a typed value. */
export function describeAction(action: BrowserAction): string {
  switch (action.action) {
    case 'goto':
      return `goto ${action.url}`;
    case 'press':
      return `press ${action.key}${action.selector === undefined ? '' : ` on ${action.selector}`}`;
    case 'waitFor':
      return action.selector !== undefined ? `waitFor ${action.selector}` : action.urlMatches !== undefined ? `waitFor url ~ ${action.urlMatches}` : `waitFor ${action.ms} ms`;
    case 'extract':
      return `extract ${action.name} from ${action.selector}`;
    case 'screenshot':
      return `screenshot ${action.name}${action.selector === undefined ? '' : ` of ${action.selector}`}`;
    case 'pdf':
      return `pdf ${action.name}`;
    case 'click':
    case 'fill':
    case 'select':
    case 'check':
    case 'uncheck':
      return `${action.action} ${action.selector}`;
  }
}
