import { csvField, usageCsv } from './usage-export';

describe('usage CSV', () => {
  it('quotes what needs quoting and keeps spreadsheets from reading a name as a formula', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('-1+1')).toBe("'-1+1");
    expect(csvField(-1.5)).toBe('-1.5');
  });

  it('has a header and one line per group', () => {
    const csv = usageCsv([
      { key: '2026-12-06', workflow: null, calls: 2, failedCalls: 1, promptTokens: 10, completionTokens: 5, totalTokens: 15, costUsd: 0.00002, gpuSeconds: 1.5 },
      { key: 'wf-1', workflow: { name: 'summarize, then mail' }, calls: 1, failedCalls: 0, promptTokens: 1, completionTokens: 2, totalTokens: 3, costUsd: 0, gpuSeconds: 0 },
    ]);
    expect(csv.split('\r\n')).toEqual([
      'key,name,calls,failedCalls,promptTokens,completionTokens,totalTokens,costUsd,gpuSeconds',
      '2026-12-06,,2,1,10,5,15,0.00002,1.5',
      'wf-1,"summarize, then mail",1,0,1,2,3,0,0',
      '',
    ]);
  });
});
