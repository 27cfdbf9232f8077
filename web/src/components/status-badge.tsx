import type { AttemptStatus, HealthStatus, RunStatus, TaskStatus, WorkerStatus, AppStatus, WebhookDeliveryStatus } from '../lib/api/__generated__/graphql';

type AnyStatus = RunStatus | TaskStatus | AttemptStatus | WorkerStatus | HealthStatus | AppStatus | WebhookDeliveryStatus | 'ACCEPTED' | 'REVOKED' | 'EXPIRED' | 'DISABLED';

const STYLE: Record<string, { className: string; dot: string; label?: string }> = {
  PENDING: { className: 'bg-slate-50 text-slate-600 ring-slate-300 ring-dashed', dot: 'bg-slate-300' },
  SCHEDULED: { className: 'bg-violet-50 text-violet-800 ring-violet-300 ring-dashed', dot: 'bg-violet-400' },
  QUEUED: { className: 'bg-slate-100 text-slate-700 ring-slate-300', dot: 'bg-slate-400' },
  RUNNING: { className: 'bg-sky-50 text-sky-800 ring-sky-300', dot: 'bg-sky-500 animate-soft-pulse' },
  SUCCEEDED: { className: 'bg-emerald-50 text-emerald-800 ring-emerald-300', dot: 'bg-emerald-500' },
  FAILED: { className: 'bg-red-50 text-red-800 ring-red-300', dot: 'bg-red-500' },
  CANCELLED: { className: 'bg-amber-50 text-amber-800 ring-amber-300', dot: 'bg-amber-500' },
  LOST: { className: 'bg-orange-50 text-orange-800 ring-orange-300', dot: 'bg-orange-500' },
  ONLINE: { className: 'bg-emerald-50 text-emerald-800 ring-emerald-300', dot: 'bg-emerald-500' },
  OFFLINE: { className: 'bg-slate-100 text-slate-600 ring-slate-300', dot: 'bg-slate-400' },
  UP: { className: 'bg-emerald-50 text-emerald-800 ring-emerald-300', dot: 'bg-emerald-500' },
  DOWN: { className: 'bg-red-50 text-red-800 ring-red-300', dot: 'bg-red-500' },
  UNKNOWN: { className: 'bg-slate-100 text-slate-600 ring-slate-300', dot: 'bg-slate-400' },
  ACTIVE: { className: 'bg-emerald-50 text-emerald-800 ring-emerald-300', dot: 'bg-emerald-500' },
  PAUSED: { className: 'bg-amber-50 text-amber-800 ring-amber-300', dot: 'bg-amber-500' },
  ARCHIVED: { className: 'bg-slate-100 text-slate-600 ring-slate-300', dot: 'bg-slate-400' },
  ACCEPTED: { className: 'bg-emerald-50 text-emerald-800 ring-emerald-300', dot: 'bg-emerald-500' },
  REVOKED: { className: 'bg-red-50 text-red-700 ring-red-200', dot: 'bg-red-400' },
  EXPIRED: { className: 'bg-slate-100 text-slate-600 ring-slate-300', dot: 'bg-slate-400' },
  DISABLED: { className: 'bg-red-50 text-red-700 ring-red-200', dot: 'bg-red-400' },
};

export const statusLabel = (status: string): string => status.charAt(0) + status.slice(1).toLowerCase().replace(/_/g, ' ');

/** A status with its colour and a dot, and the word itself so colour is never the only signal. */
export function StatusBadge({ status, className = '' }: { status: AnyStatus; className?: string }) {
  const style = STYLE[status] ?? STYLE['UNKNOWN']!;
  return (
    <span className={`inline-flex items-center gap-1.5 whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${style.className} ${className}`} data-status={status}>
      <span className={`size-1.5 rounded-full ${style.dot}`} aria-hidden="true" />
      {statusLabel(status)}
    </span>
  );
}

export function Tag({ children }: { children: string }) {
  return <span className="inline-flex items-center rounded-md bg-slate-100 px-1.5 py-0.5 font-mono text-[11px] text-slate-700">{children}</span>;
}

export function RoleBadge({ role }: { role: string }) {
  const tone = role === 'OWNER' ? 'bg-violet-50 text-violet-800 ring-violet-200' : role === 'ADMIN' ? 'bg-indigo-50 text-indigo-800 ring-indigo-200' : role === 'OPERATOR' ? 'bg-sky-50 text-sky-800 ring-sky-200' : 'bg-slate-100 text-slate-700 ring-slate-200';
  return <span className={`inline-flex rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${tone}`}>{statusLabel(role)}</span>;
}
