import type { ReactNode } from 'react';
import { presentError } from '../lib/api/errors';

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return (
    <span role="status" className="inline-flex items-center gap-2 text-sm text-slate-500">
      <span className="size-4 animate-spin rounded-full border-2 border-slate-300 border-t-indigo-600" aria-hidden="true" />
      {label}…
    </span>
  );
}

export function LoadingBlock({ label }: { label?: string }) {
  return (
    <div className="flex min-h-32 items-center justify-center">
      <Spinner {...(label ? { label } : {})} />
    </div>
  );
}

/** An API error as the user reads it: the API's own message, and the request id for internal errors. */
export function ErrorNotice({ error, title, onRetry, className = '' }: { error: unknown; title?: string; onRetry?: () => void; className?: string }) {
  const shown = presentError(error);
  return (
    <div role="alert" className={`rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800 ${className}`}>
      <p className="font-semibold">{title ?? shown.title}</p>
      <p className="mt-0.5 break-words">{shown.message}</p>
      {shown.requestId && (
        <p className="mt-1 text-xs text-red-700">
          Request id: <code className="font-mono select-all">{shown.requestId}</code>
        </p>
      )}
      {onRetry && (
        <button type="button" onClick={onRetry} className="mt-2 text-xs font-semibold text-red-800 underline underline-offset-2 hover:text-red-950">
          Try again
        </button>
      )}
    </div>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="flex flex-col items-center justify-center gap-2 px-6 py-10 text-center">
      <p className="text-sm font-semibold text-slate-700">{title}</p>
      {children && <div className="max-w-md text-sm text-slate-500">{children}</div>}
      {action && <div className="mt-2">{action}</div>}
    </div>
  );
}

export function Notice({ tone = 'info', children }: { tone?: 'info' | 'success' | 'warning'; children: ReactNode }) {
  const tones = {
    info: 'border-sky-200 bg-sky-50 text-sky-900',
    success: 'border-emerald-200 bg-emerald-50 text-emerald-900',
    warning: 'border-amber-200 bg-amber-50 text-amber-900',
  } as const;
  return (
    <div role={tone === 'warning' ? 'alert' : 'status'} className={`rounded-lg border px-4 py-3 text-sm ${tones[tone]}`}>
      {children}
    </div>
  );
}
