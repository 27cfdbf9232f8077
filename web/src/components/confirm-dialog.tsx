import type { ReactNode } from 'react';
import { Button, type ButtonVariant } from './button';
import { Dialog } from './dialog';
import { ErrorNotice } from './feedback';

/** Asks before an action that cannot be taken back in one click; the API's refusal shows inside it. */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  variant = 'danger',
  busy = false,
  error,
  onConfirm,
  onClose,
}: {
  title: ReactNode;
  children: ReactNode;
  confirmLabel: string;
  variant?: ButtonVariant;
  busy?: boolean;
  error?: unknown;
  onConfirm: () => void;
  onClose: () => void;
}) {
  return (
    <Dialog
      open
      onClose={onClose}
      title={title}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant={variant} busy={busy} onClick={onConfirm}>
            {confirmLabel}
          </Button>
        </>
      }
    >
      <div className="space-y-3 text-sm text-slate-600">{children}</div>
      {error !== undefined && error !== null && <ErrorNotice error={error} className="mt-3" />}
    </Dialog>
  );
}
