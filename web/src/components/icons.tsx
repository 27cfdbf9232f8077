/** Small line icons (24×24, stroke = currentColor), decorative: labels always say what they mean. */
const PATHS = {
  dashboard: 'M4 13h6V4H4v9Zm0 7h6v-5H4v5Zm10 0h6v-9h-6v9Zm0-16v5h6V4h-6Z',
  workflows: 'M6 4v4m0 8v4M6 8a2 2 0 1 0 0 .01M6 16a2 2 0 1 0 0 .01M18 10a2 2 0 1 0 0 .01M6 10c0 3 4 2 10 0',
  runs: 'M5 4l14 8-14 8V4Z',
  deadLetters: 'M4 7h16v12H4zM4 7l8 6 8-6M9 3h6',
  workers: 'M4 5h16v6H4zM4 13h16v6H4zM8 8h.01M8 16h.01',
  apps: 'M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z',
  members: 'M16 19v-1a4 4 0 0 0-8 0v1M12 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6ZM20 19v-1a3 3 0 0 0-2-2.8M17 5.2a3 3 0 0 1 0 5.6',
  keys: 'M15 7a4 4 0 1 1-3.9 5H8v3H5v-3H3V9h8.1A4 4 0 0 1 15 7Zm0 3h.01',
  audit: 'M9 4h6l1 2h3v14H5V6h3l1-2ZM9 12l2 2 4-4',
  account: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8ZM5 20v-1a7 7 0 0 1 14 0v1',
  menu: 'M4 6h16M4 12h16M4 18h16',
  signOut: 'M15 12H4m11 0-3-3m3 3-3 3M10 5V4h10v16H10v-1',
  bell: 'M6 16V11a6 6 0 1 1 12 0v5l2 2H4l2-2ZM10 20a2 2 0 0 0 4 0',
  secrets: 'M7 11V8a5 5 0 0 1 10 0v3M5 11h14v10H5zM12 15v2',
  sso: 'M12 3 4 6v6c0 4.5 3.4 8 8 9 4.6-1 8-4.5 8-9V6l-8-3ZM9 12l2 2 4-4',
  webhooks: 'M8 7a4 4 0 1 1 6 3.5L17 16M6 14a4 4 0 1 0 5 4h6M18 20a4 4 0 1 0-2-7.5',
  triggers: 'M13 3 5 14h6l-1 7 8-11h-6l1-7Z',
  schedules: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18ZM12 7v5l3 2',
  approvals: 'M9 12l2 2 4-4M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18Z',
  rateLimits: 'M4 18a8 8 0 1 1 16 0M12 18l4-6M4 18h2M18 18h2M12 10V8',
  preferences: 'M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12M20 18h0M14 4v4M8 10v4M16 16v4',
  metrics: 'M4 20h16M4 16l5-6 4 3 7-8',
  usage: 'M4 20h16M6 16v-4M10 16V8M14 16v-6M18 16V5',
  providers: 'M7 7h10v10H7zM10 3v4M14 3v4M10 17v4M14 17v4M3 10h4M3 14h4M17 10h4M17 14h4',
  sun: 'M12 16a4 4 0 1 0 0-8 4 4 0 0 0 0 8ZM12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4',
  moon: 'M20 14.5A8 8 0 0 1 9.5 4 8 8 0 1 0 20 14.5Z',
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name, className = 'size-4' }: { name: IconName; className?: string }) {
  return (
    <svg viewBox="0 0 24 24" className={className} fill="none" stroke="currentColor" strokeWidth={1.7} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      <path d={PATHS[name]} />
    </svg>
  );
}
