import { Button } from './button';

/** Previous / next over a cursor-paginated connection (the API pages forward; we remember the way back). */
export function Pagination({ hasPrevious, hasNext, onPrevious, onNext, summary }: { hasPrevious: boolean; hasNext: boolean; onPrevious: () => void; onNext: () => void; summary?: string }) {
  if (!hasPrevious && !hasNext && !summary) return null;
  return (
    <nav aria-label="Pagination" className="flex items-center justify-between gap-2 border-t border-slate-100 px-4 py-3">
      <p className="text-xs text-slate-500">{summary}</p>
      <div className="flex gap-2">
        <Button size="sm" onClick={onPrevious} disabled={!hasPrevious}>
          Previous
        </Button>
        <Button size="sm" onClick={onNext} disabled={!hasNext}>
          Next
        </Button>
      </div>
    </nav>
  );
}
