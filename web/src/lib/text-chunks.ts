/**
 * A long text (a run's input of 10,000 items is ~30,000 lines of JSON) cut into runs of whole lines,
 * so the page can leave the runs out of view unlaid-out (CSS content-visibility) instead of laying
 * out every line at once. Each chunk keeps its line breaks: the chunks joined are the text again.
 */
export interface TextChunk {
  text: string;
  /** Lines in the chunk (for the height it stands in for while not laid out). */
  lines: number;
}

export function textChunks(text: string, linesPerChunk: number): TextChunk[] {
  if (!Number.isInteger(linesPerChunk) || linesPerChunk < 1) throw new RangeError(`linesPerChunk must be a positive integer, got ${linesPerChunk}`);
  const chunks: TextChunk[] = [];
  let start = 0;
  while (start < text.length) {
    let end = start;
    let lines = 0;
    // Past the next linesPerChunk line breaks (or to the end).
    while (lines < linesPerChunk && end < text.length) {
      const next = text.indexOf('\n', end);
      lines += 1;
      end = next === -1 ? text.length : next + 1;
    }
    chunks.push({ text: text.slice(start, end), lines });
    start = end;
  }
  return chunks;
}
