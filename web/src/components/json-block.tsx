import { formatJson } from '../lib/format';

export function JsonBlock({ value, label, maxHeight = 'max-h-72' }: { value: unknown; label?: string; maxHeight?: string }) {
  if (value === null || value === undefined) return <p className="text-sm text-slate-400">—</p>;
  return (
    <pre aria-label={label} tabIndex={0} className={`${maxHeight} overflow-auto rounded-lg bg-slate-950 p-3 font-mono text-xs leading-5 text-slate-100`}>
      {formatJson(value)}
    </pre>
  );
}
