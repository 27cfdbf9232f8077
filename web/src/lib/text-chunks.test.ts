import { textChunks } from './text-chunks';

describe('textChunks', () => {
  it('cuts a text into runs of whole lines that join back into it', () => {
    const text = Array.from({ length: 10 }, (_, i) => `line ${i}`).join('\n');
    const chunks = textChunks(text, 4);
    expect(chunks.map((c) => c.lines)).toEqual([4, 4, 2]);
    expect(chunks[0]!.text).toBe('line 0\nline 1\nline 2\nline 3\n');
    expect(chunks[2]!.text).toBe('line 8\nline 9');
    expect(chunks.map((c) => c.text).join('')).toBe(text);
  });

  it('keeps a text shorter than a chunk whole, a trailing line break included', () => {
    expect(textChunks('a\nb\n', 200)).toEqual([{ text: 'a\nb\n', lines: 2 }]);
    expect(textChunks('single', 3)).toEqual([{ text: 'single', lines: 1 }]);
    expect(textChunks('', 3)).toEqual([]);
  });

  it('refuses a chunk size that is not a positive whole number', () => {
    expect(() => textChunks('a', 0)).toThrow('linesPerChunk must be a positive integer, got 0');
  });
});
