export function Logo({ className = 'size-8' }: { className?: string }) {
  return (
    <svg viewBox="0 0 32 32" className={className} aria-hidden="true">
      <rect width="32" height="32" rx="8" fill="#4f46e5" />
      <path d="M9 21c3-8 11-8 14 0" stroke="white" strokeWidth="3" fill="none" strokeLinecap="round" />
      <circle cx="16" cy="12" r="3" fill="white" />
    </svg>
  );
}
