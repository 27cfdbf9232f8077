import { useEffect, useRef, type ReactNode } from 'react';
import { Button } from './button';

/** Focuses `opener` once the dialog is gone, unless it left the page or focus already moved somewhere else on purpose. */
function returnFocus(opener: HTMLElement | null) {
  if (!opener) return;
  setTimeout(() => {
    const active = document.activeElement;
    const lost = active === null || active === document.body || !active.isConnected;
    if (opener.isConnected && lost) opener.focus();
  });
}

/**
 * A modal built on <dialog>: the browser gives it focus trapping, Escape to close and an inert page
 * behind it, which keeps it keyboard-usable without a focus-trap library.
 * `onDismiss` (Escape, the close button) defaults to `onClose`; a dialog showing something that is
 * lost once closed handles it itself, e.g. by asking first.
 */
export function Dialog({ open, onClose, onDismiss = onClose, title, children, footer, wide = false }: { open: boolean; onClose: () => void; onDismiss?: () => void; title: ReactNode; children: ReactNode; footer?: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const openRef = useRef(open);
  openRef.current = open;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (!open) {
      if (dialog.open) dialog.close();
      return;
    }
    // Focus goes back to what opened the dialog when it closes, or when the dialog leaves the page
    // (a confirm dialog is usually unmounted rather than closed), so the keyboard user keeps their place.
    const opener = document.activeElement instanceof HTMLElement && document.activeElement !== document.body ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    return () => {
      if (dialog.open) dialog.close();
      returnFocus(opener);
    };
  }, [open]);
  return (
    <dialog
      ref={ref}
      onClose={() => {
        if (!openRef.current) return;
        // Closed by the browser while it should be open: Chrome closes a modal on a second Escape even
        // when its cancel was refused. That is a dismissal; if the dialog stays (it asks first), show it again.
        onDismiss();
        setTimeout(() => {
          const dialog = ref.current;
          if (dialog && openRef.current && dialog.isConnected && !dialog.open) dialog.showModal();
        });
      }}
      onCancel={(event) => {
        event.preventDefault();
        onDismiss();
      }}
      aria-labelledby="dialog-title"
      className={`m-auto w-[calc(100%-2rem)] ${wide ? 'max-w-3xl' : 'max-w-lg'} rounded-xl border border-slate-200 bg-white p-0 text-slate-900 shadow-xl`}
    >
      {open && (
        <div className="flex max-h-[85vh] flex-col">
          <header className="flex items-center justify-between border-b border-slate-100 px-5 py-3">
            <h2 id="dialog-title" className="text-base font-semibold">
              {title}
            </h2>
            <button type="button" onClick={onDismiss} className="rounded-md p-1 text-slate-400 hover:bg-slate-100 hover:text-slate-700" aria-label="Close">
              <svg viewBox="0 0 20 20" className="size-5" aria-hidden="true">
                <path d="M5 5l10 10M15 5L5 15" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
              </svg>
            </button>
          </header>
          <div className="overflow-y-auto px-5 py-4">{children}</div>
          {footer && <footer className="flex justify-end gap-2 border-t border-slate-100 px-5 py-3">{footer}</footer>}
        </div>
      )}
    </dialog>
  );
}

/** The usual footer of a dialog holding a form: Cancel, and the button that submits form `formId`. */
export function FormDialogFooter({ formId, submitLabel, busy, onCancel }: { formId: string; submitLabel: ReactNode; busy: boolean; onCancel: () => void }) {
  return (
    <>
      <Button onClick={onCancel}>Cancel</Button>
      <Button variant="primary" type="submit" form={formId} busy={busy}>
        {submitLabel}
      </Button>
    </>
  );
}
