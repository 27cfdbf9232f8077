import type { ReactNode } from 'react';

/**
 * A table that scrolls sideways inside its card when it cannot fit, rather than pushing the page wider.
 * Text cells wrap so that one long value does not push the other columns out of view.
 */
export function Table({ head, children, label }: { head: ReactNode[]; children: ReactNode; label: string }) {
  return (
    <div className="max-w-full overflow-x-auto">
      <table className="min-w-full divide-y divide-slate-100 text-sm" aria-label={label}>
        <thead className="bg-slate-50/60">
          <tr>
            {head.map((h, i) => (
              <th key={i} scope="col" className="whitespace-nowrap px-4 py-2.5 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">{children}</tbody>
      </table>
    </div>
  );
}

/**
 * How a cell lays out its content:
 * - `text` (the default) wraps, breaking long words (emails, ids) when the columns would not fit otherwise;
 * - `nowrap` keeps short values on one line (timestamps, badges, numbers, ids);
 * - `actions` keeps buttons on one line, right-aligned, and pinned to the right edge while the table scrolls,
 *   so that they never go out of view.
 */
export type CellLayout = 'text' | 'nowrap' | 'actions';

const LAYOUTS: Record<CellLayout, string> = {
  text: 'min-w-24 [overflow-wrap:anywhere]',
  nowrap: 'whitespace-nowrap',
  actions: 'sticky right-0 whitespace-nowrap bg-white text-right',
};

export function Cell({ children, className = '', layout = 'text', title }: { children?: ReactNode; className?: string; layout?: CellLayout; title?: string }) {
  return (
    <td className={`px-4 py-2.5 align-middle text-slate-700 ${LAYOUTS[layout]} ${className}`} title={title}>
      {children}
    </td>
  );
}
