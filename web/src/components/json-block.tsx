import { useMemo } from 'react';
import { formatJson } from '../lib/format';
import { textChunks } from '../lib/text-chunks';

/** Values of more lines than this are drawn in chunks that are laid out only near the view. */
const CHUNKED_MIN_LINES = 400;
const CHUNK_LINES = 200;
/** The block's line height (leading-5), the height a chunk stands in for until it is laid out. */
const LINE_PX = 20;

/**
 * A value as indented JSON. A large one (a forEach run's input of 10,000 items is ~30,000 lines) is
 * cut into chunks of whole lines with `content-visibility: auto`: only those in or near the view
 * are laid out, so opening the page (or the run's end bringing its output) is not one long task of
 * text layout. The text stays whole: it selects, copies and finds in the page as one.
 */
export function JsonBlock({ value, label, maxHeight = 'max-h-72' }: { value: unknown; label?: string; maxHeight?: string }) {
  const chunks = useMemo(() => {
    const text = formatJson(value);
    const all = textChunks(text, CHUNK_LINES);
    return all.reduce((lines, chunk) => lines + chunk.lines, 0) <= CHUNKED_MIN_LINES ? text : all;
  }, [value]);
  if (value === null || value === undefined) return <p className="text-sm text-slate-400">—</p>;
  return (
    <pre aria-label={label} tabIndex={0} className={`${maxHeight} overflow-auto rounded-lg bg-slate-950 p-3 font-mono text-xs leading-5 text-slate-100`}>
      {typeof chunks === 'string'
        ? chunks
        : chunks.map((chunk, i) => (
            <span key={i} className="block" style={{ contentVisibility: 'auto', containIntrinsicSize: `auto ${chunk.lines * LINE_PX}px` }}>
              {chunk.text}
            </span>
          ))}
    </pre>
  );
}
