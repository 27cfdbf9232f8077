import { Link } from '@tanstack/react-router';
import { Notice } from './feedback';

/** What a bulk action did to one item: done, or why not. */
export interface BulkItemResult {
  id: string;
  /** The run the item is or belongs to (linked). */
  runId: string;
  /** What the item is, e.g. "step fetch of run …" (the run id by default). */
  label?: string;
  ok: boolean;
  message: string;
}

/**
 * The result of a bulk action: a summary and every item with what happened to it, kept in view even
 * when the items leave the list (a retried run is no longer "failed", a replayed dead letter no longer open).
 */
export function BulkResults({ summary, items }: { summary: string; items: readonly BulkItemResult[] }) {
  return (
    <Notice tone={items.every((i) => i.ok) ? 'success' : 'warning'}>
      <p className="font-medium">{summary}</p>
      <ul className="mt-1 space-y-0.5 text-xs" aria-label="Result of each">
        {items.map((item) => (
          <li key={item.id} data-testid="bulk-result" data-ok={item.ok}>
            {item.runId ? (
              <Link to="/runs/$runId" params={{ runId: item.runId }} className="font-mono underline" title={item.runId}>
                {item.label ?? item.runId}
              </Link>
            ) : (
              <span className="font-mono">{item.label ?? item.id}</span>
            )}
            : <span className={item.ok ? '' : 'text-red-700'}>{item.message}</span>
          </li>
        ))}
      </ul>
    </Notice>
  );
}
