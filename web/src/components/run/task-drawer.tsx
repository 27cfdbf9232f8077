import { useEffect, type ReactNode } from 'react';

/**
 * A side drawer on the right of the run page for the open task, so it opens in view next to the
 * graph and the table (not below them). Escape or the close button closes it; it is not modal: the
 * graph and the table stay usable, and choosing another task shows that one. It starts below the
 * app's header (h-14), whose notifications, organization and account menus stay usable beside it.
 */
export function TaskDrawer({ label, onClose, children }: { label: string; onClose: () => void; children: ReactNode }) {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      // An open modal (a native <dialog> shown with showModal, which has no role or aria-modal
      // attribute, or an ARIA one) takes this Escape for itself: closing it must not close the drawer too.
      if (event.key === 'Escape' && !event.defaultPrevented && !document.querySelector('dialog[open], [role="dialog"][aria-modal="true"]')) onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <aside aria-label={label} data-testid="task-drawer" className="fixed bottom-0 right-0 top-14 z-30 flex w-full max-w-2xl flex-col border-l border-slate-200 bg-slate-50 shadow-2xl">
      <div className="flex justify-end px-3 pt-2">
        <button type="button" onClick={onClose} className="rounded-md px-2 py-1 text-sm text-slate-600 hover:bg-slate-200" aria-label="Close the task panel">
          Close ✕
        </button>
      </div>
      <div className="min-h-0 flex-1 overflow-y-auto px-3 pb-4">{children}</div>
    </aside>
  );
}
