import { useEffect, type ReactNode } from 'react';

/** The page's title (also the document title) with its main actions. */
export function PageHeader({ title, description, actions, breadcrumb }: { title: ReactNode; description?: ReactNode; actions?: ReactNode; breadcrumb?: ReactNode }) {
  useEffect(() => {
    if (typeof title === 'string') document.title = `${title} · Orchestra`;
  }, [title]);
  return (
    <div className="mb-6 flex flex-wrap items-end justify-between gap-4">
      <div className="min-w-0">
        {breadcrumb && <nav aria-label="Breadcrumb" className="mb-1 text-xs text-slate-500">{breadcrumb}</nav>}
        <h1 className="truncate text-xl font-semibold tracking-tight text-slate-900">{title}</h1>
        {description && <p className="mt-1 max-w-3xl text-sm text-slate-500">{description}</p>}
      </div>
      {actions && <div className="flex flex-wrap items-center gap-2">{actions}</div>}
    </div>
  );
}
