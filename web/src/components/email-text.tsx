import { Fragment } from 'react';
import { emailParts } from '../lib/email-parts';

/**
 * An e-mail address that wraps only at its "@" and dots (table cells otherwise break long words
 * anywhere). The whole address is in its title, for when a column is narrow.
 */
export function EmailText({ value, className = '' }: { value: string; className?: string }) {
  const parts = emailParts(value);
  return (
    <span className={`[overflow-wrap:normal] [word-break:normal] ${className}`} title={value} data-email-text="">
      {parts.map((part, i) => (
        <Fragment key={i}>
          {i > 0 && <wbr />}
          {part}
        </Fragment>
      ))}
    </span>
  );
}
