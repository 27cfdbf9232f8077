import { useState } from 'react';
import { Button } from './button';

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <Button
      size="sm"
      onClick={() => {
        navigator.clipboard.writeText(text).then(
          () => setCopied('copied'),
          () => setCopied('failed'),
        );
        setTimeout(() => setCopied('idle'), 2000);
      }}
    >
      <span aria-live="polite">{copied === 'copied' ? 'Copied' : copied === 'failed' ? 'Select and copy' : label}</span>
    </Button>
  );
}
