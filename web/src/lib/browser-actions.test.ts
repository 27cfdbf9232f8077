import { agentStepScreenshot, agentStepsFromStream, agentStepsOf, browserActionsOf, describeBrowserAction, isImageArtifact } from './browser-actions';

const input = {
  actions: [
    { action: 'goto', url: 'https://shop.example/login' },
    { action: 'fill', selector: '#user', value: '****' },
    { action: 'click', selector: '#go' },
    { action: 'screenshot', name: 'after' },
  ],
};

describe('a browser task\'s actions on the run page', () => {
  it('labels actions as the worker does', () => {
    expect(describeBrowserAction({ action: 'waitFor', ms: 500 })).toBe('waitFor 500 ms');
    expect(describeBrowserAction({ action: 'waitFor', urlMatches: '/done' })).toBe('waitFor url ~ /done');
    expect(describeBrowserAction({ action: 'press', key: 'Enter', selector: '#q' })).toBe('press Enter on #q');
    expect(describeBrowserAction({ action: 'extract', name: 'rows', selector: 'table' })).toBe('extract rows from table');
  });

  it('marks the action the script stopped at as failed, those before done and those after skipped', () => {
    const rows = browserActionsOf({ status: 'FAILED', input, error: { message: 'action 3 (click #go) failed: no element matches #go after 5000 ms' } });
    expect(rows?.map((r) => [r.index, r.label, r.state])).toEqual([
      [1, 'goto https://shop.example/login', 'done'],
      [2, 'fill #user', 'done'],
      [3, 'click #go', 'failed'],
      [4, 'screenshot after', 'skipped'],
    ]);
    expect(rows?.[2]?.message).toBe('no element matches #go after 5000 ms');
  });

  it('marks failures a script went past (stopOnError: false) from the output, the rest done', () => {
    const rows = browserActionsOf({ status: 'SUCCEEDED', input, output: { errors: [{ index: 2, action: 'fill #user', code: 'SELECTOR_NOT_FOUND', message: 'no #user' }] } });
    expect(rows?.map((r) => r.state)).toEqual(['done', 'failed', 'done', 'done']);
  });

  it('shows a running script as pending, and nothing for a task that is not a browser script', () => {
    expect(browserActionsOf({ status: 'RUNNING', input })?.map((r) => r.state)).toEqual(['pending', 'pending', 'pending', 'pending']);
    expect(browserActionsOf({ status: 'SUCCEEDED', input: { url: 'https://x.example' } })).toBeUndefined();
    expect(browserActionsOf({ status: 'FAILED', input, error: { message: 'the browser crashed' } })?.map((r) => r.state)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
  });

  it('shows images as thumbnails and the rest as downloads', () => {
    expect(isImageArtifact('image/png')).toBe(true);
    expect(isImageArtifact('application/pdf')).toBe(false);
    expect(isImageArtifact('image/svg+xml')).toBe(false);
  });
});

describe("a browser agent's steps on the run page", () => {
  it('lists the steps of its output with the worker\'s labels: failures with their code, the model\'s words on the others', () => {
    const output = {
      result: { orders: 2 },
      steps: [
        { step: 1, action: 'type', label: 'type secret SHOP_PASSWORD into [e2] textbox "Password"', ok: true, reason: 'Signing in.' },
        { step: 2, action: 'click', label: 'click [e999]', ok: false, error: { code: 'UNKNOWN_REF', message: 'there is no element [e999] on this page' } },
        { step: 3, action: 'done', label: 'done', ok: true },
      ],
    };
    expect(agentStepsOf({ output })).toEqual([
      { index: 1, label: 'type secret SHOP_PASSWORD into [e2] textbox "Password"', state: 'done', message: 'Signing in.' },
      { index: 2, label: 'click [e999]', state: 'failed', message: 'UNKNOWN_REF: there is no element [e999] on this page' },
      { index: 3, label: 'done', state: 'done' },
    ]);
  });

  it('has nothing to list before the agent has an output', () => {
    expect(agentStepsOf({ output: null })).toBeUndefined();
    expect(agentStepsOf({ output: { text: 'an llm answer' } })).toBeUndefined();
  });
});

describe('a browser agent\'s steps from what it streamed', () => {
  it('reads one row per step line, failures with their code, other lines ignored', () => {
    const streamed = [
      'step 1: type "ada" into [e3] textbox "User" field=user',
      'step 2: click [e999] \u2014 UNKNOWN_REF: there is no element [e999] on this page',
      'not a step line',
      'step 3: navigate https://shop.example/orders',
      '',
    ].join('\n');
    expect(agentStepsFromStream(streamed)).toEqual([
      { index: 1, label: 'type "ada" into [e3] textbox "User" field=user', state: 'done' },
      { index: 2, label: 'click [e999]', state: 'failed', message: 'UNKNOWN_REF: there is no element [e999] on this page' },
      { index: 3, label: 'navigate https://shop.example/orders', state: 'done' },
    ]);
    expect(agentStepsFromStream('')).toEqual([]);
  });

  it('names a step\'s screenshot as the worker does', () => {
    expect(agentStepScreenshot(3)).toBe('step-03.jpg');
    expect(agentStepScreenshot(12)).toBe('step-12.jpg');
  });
});
