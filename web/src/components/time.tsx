import { memo, useEffect, useState } from 'react';
import { formatDateTime, formatDateTimeZone, formatRelative } from '../lib/format';

/** "3 min ago", with the exact time on hover and for screen readers; it keeps itself current. */
export function RelativeTime({ value }: { value: string | null | undefined }) {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!value) return;
    const timer = setInterval(() => setTick((t) => t + 1), 15_000);
    return () => clearInterval(timer);
  }, [value]);
  if (!value) return <span className="text-slate-400">—</span>;
  return (
    <time dateTime={value} title={formatDateTimeZone(value)}>
      {formatRelative(value, Date.now())}
    </time>
  );
}

/**
 * A time as the date and clock time ("Dec 6, 2026, 10:15:02 PM"), with its time zone on hover and for
 * screen readers. Drawn again only when the time changes (formatting with the zone is not cheap, and
 * a live run page redraws its summary with every batch of events).
 */
export const ExactTime = memo(function ExactTime({ value, format = formatDateTime }: { value: string | null | undefined; format?: (iso: string) => string }) {
  if (!value) return <span className="text-slate-400">—</span>;
  return (
    <time dateTime={value} title={formatDateTimeZone(value)}>
      {format(value)}
    </time>
  );
});
