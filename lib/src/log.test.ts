import { boundLogger, createMemoryLogger, lazyChild, type LogFields, type Logger } from './log';

describe('lazyChild', () => {
  it('makes no child logger until something is logged, then one, with its bindings read once', () => {
    const log = createMemoryLogger('lazy-test');
    const children: LogFields[] = [];
    const counting: Logger = { ...log, child: (bindings) => (children.push(bindings), log.child(bindings)) };
    let read = 0;
    const lazy = lazyChild(counting, () => ((read += 1), { requestId: 'req_lazy1' }));
    expect([children.length, read]).toEqual([0, 0]);
    lazy.info('first', { n: 1 });
    lazy.warn('second');
    expect([children.length, read]).toEqual([1, 1]);
    expect(log.lines.map((l) => [l['msg'], l['requestId'], l['level']])).toEqual([
      ['first', 'req_lazy1', 'info'],
      ['second', 'req_lazy1', 'warn'],
    ]);
    expect(log.lines[0]).toMatchObject({ n: 1 });
  });

  it('hands on its bindings to a child of its own', () => {
    const log = createMemoryLogger('lazy-test');
    lazyChild(log, () => ({ requestId: 'req_lazy2' })).child({ component: 'x' }).error('failed');
    expect(log.lines).toEqual([expect.objectContaining({ msg: 'failed', requestId: 'req_lazy2', component: 'x', level: 'error' })]);
  });
});

describe('boundLogger', () => {
  it('writes the same lines as a child, without making one', () => {
    const viaChild = createMemoryLogger('bound-test');
    const viaBound = createMemoryLogger('bound-test');
    let children = 0;
    const counting: Logger = { ...viaBound, child: (bindings) => ((children += 1), viaBound.child(bindings)) };
    const bindings = { attemptId: 'att_1', runId: 'run_1', secret: 'hidden' };
    viaChild.child(bindings).info('attempt finished', { outcome: 'success', runId: 'run_2' });
    boundLogger(counting, bindings).info('attempt finished', { outcome: 'success', runId: 'run_2' });
    expect(children).toBe(0);
    const strip = ({ time: _time, ...line }: LogFields) => line;
    expect(viaBound.lines.map(strip)).toEqual(viaChild.lines.map(strip));
    expect(viaBound.lines[0]).toMatchObject({ attemptId: 'att_1', runId: 'run_2', outcome: 'success', secret: '[REDACTED]' });
  });

  it('hands on its bindings to a child of its own', () => {
    const log = createMemoryLogger('bound-test');
    boundLogger(log, { attemptId: 'att_2' }).child({ component: 'x' }).warn('slow');
    expect(log.lines).toEqual([expect.objectContaining({ msg: 'slow', attemptId: 'att_2', component: 'x', level: 'warn' })]);
  });
});
