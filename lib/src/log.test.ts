import { createMemoryLogger, lazyChild, type LogFields, type Logger } from './log';

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
