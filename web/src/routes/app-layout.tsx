import { createRoute, Link, Outlet, useLocation } from '@tanstack/react-router';
import { useEffect, useState, type ReactNode } from 'react';
import { ApprovalsBadge } from '../components/approvals-badge';
import { Button } from '../components/button';
import { LoadingBlock } from '../components/feedback';
import { Icon, type IconName } from '../components/icons';
import { Logo } from '../components/logo';
import { NotificationBell } from '../components/notification-bell';
import { OrgSwitcher } from '../components/org-switcher';
import { Redirect } from '../components/redirect';
import { RoleBadge } from '../components/status-badge';
import { ThemeToggle } from '../components/theme-toggle';
import { TwoFactorEnrollmentPage } from '../components/two-factor-enrollment-page';
import { VerifyEmailBanner } from '../components/verify-email-banner';
import { useServices } from '../hooks/services';
import { useApiQuery } from '../hooks/use-api';
import { usePermissions, useSessionState } from '../hooks/use-session';
import { useNotificationFeed } from '../hooks/use-notification-feed';
import { useRunStatusFeed } from '../hooks/use-run-status-feed';
import { meQuery } from '../lib/api/operations/identity';
import { queryKeys } from '../lib/api/query-keys';
import type { Permissions } from '../lib/roles';
import { rootRoute } from './root';

interface NavItem {
  to: string;
  label: string;
  icon: IconName;
  visible?: (p: Permissions) => boolean;
  /** A count beside the label (e.g. approvals waiting). */
  badge?: () => ReactNode;
}

const NAV: Array<{ section: string; items: NavItem[] }> = [
  {
    section: 'Overview',
    items: [
      { to: '/', label: 'Dashboard', icon: 'dashboard' },
      { to: '/metrics', label: 'Metrics', icon: 'metrics' },
      { to: '/usage', label: 'Usage', icon: 'usage' },
    ],
  },
  {
    section: 'Automation',
    items: [
      { to: '/workflows', label: 'Workflows', icon: 'workflows' },
      { to: '/runs', label: 'Runs', icon: 'runs' },
      { to: '/approvals', label: 'Approvals', icon: 'approvals', visible: (p) => p.operateRuns, badge: () => <ApprovalsBadge /> },
      { to: '/dead-letters', label: 'Dead letters', icon: 'deadLetters' },
      { to: '/triggers', label: 'Triggers', icon: 'triggers' },
      { to: '/schedules', label: 'Schedules', icon: 'schedules' },
      { to: '/rate-limits', label: 'Rate limits', icon: 'rateLimits' },
      { to: '/workers', label: 'Workers', icon: 'workers' },
    ],
  },
  { section: 'Catalog', items: [{ to: '/apps', label: 'Apps', icon: 'apps' }] },
  {
    section: 'Organization',
    items: [
      { to: '/members', label: 'Members', icon: 'members' },
      { to: '/api-keys', label: 'API keys', icon: 'keys', visible: (p) => p.manageApiKeys },
      { to: '/secrets', label: 'Secrets', icon: 'secrets', visible: (p) => p.manageSecrets },
      { to: '/providers', label: 'Model providers', icon: 'providers' },
      { to: '/webhooks', label: 'Webhooks', icon: 'webhooks', visible: (p) => p.manageWebhooks },
      { to: '/single-sign-on', label: 'Single sign-on', icon: 'sso', visible: (p) => p.manageSso },
      { to: '/audit', label: 'Audit log', icon: 'audit', visible: (p) => p.readAudit },
    ],
  },
  {
    section: 'You',
    items: [
      { to: '/notifications', label: 'Notifications', icon: 'bell' },
      { to: '/notification-preferences', label: 'Notification settings', icon: 'preferences' },
      { to: '/account', label: 'Your account', icon: 'account' },
    ],
  },
];

function Navigation({ onNavigate }: { onNavigate?: () => void }) {
  const can = usePermissions();
  return (
    <nav aria-label="Main" className="flex flex-col gap-5">
      {NAV.map(({ section, items }) => {
        const shown = items.filter((item) => item.visible?.(can) ?? true);
        if (shown.length === 0) return null;
        return (
          <div key={section}>
            <p className="px-3 text-[11px] font-semibold uppercase tracking-wider text-slate-400">{section}</p>
            <ul className="mt-1.5 space-y-0.5">
              {shown.map((item) => (
                <li key={item.to}>
                  <Link
                    to={item.to}
                    onClick={onNavigate}
                    activeOptions={{ exact: item.to === '/' }}
                    className="flex items-center gap-2.5 rounded-lg px-3 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 data-[status=active]:bg-indigo-50 data-[status=active]:text-indigo-700"
                  >
                    <Icon name={item.icon} />
                    {item.label}
                    {item.badge?.()}
                  </Link>
                </li>
              ))}
            </ul>
          </div>
        );
      })}
    </nav>
  );
}

function AppLayout() {
  const services = useServices();
  const state = useSessionState();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const [signingOut, setSigningOut] = useState(false);
  // An organization that requires two-factor sign-in, and a member without it: only the enrolment page
  // (the gateway refuses the rest to their token). It stays up after enrolling until the recovery codes are saved.
  const me = useApiQuery(queryKeys.me, meQuery, {}, { enabled: state.status === 'signedIn' });
  const enrollmentRequired = me.data?.me.twoFactorEnrollmentRequired === true;
  const [enrolling, setEnrolling] = useState(false);
  useEffect(() => {
    if (enrollmentRequired) setEnrolling(true);
  }, [enrollmentRequired]);
  const liveOrg = state.status === 'signedIn' && (me.data !== undefined || me.isError) && !enrollmentRequired && !enrolling ? state.identity.organization.id : undefined;
  useRunStatusFeed(liveOrg);
  useNotificationFeed(liveOrg);
  useEffect(() => setMenuOpen(false), [location.pathname]);

  if (state.status === 'restoring') return <LoadingBlock label="Resuming your session" />;
  if (state.status === 'signedOut') return <Redirect to="/sign-in" search={{ redirect: location.href }} />;
  const { identity } = state;
  if (enrollmentRequired || enrolling) return <TwoFactorEnrollmentPage identity={identity} onDone={() => setEnrolling(false)} />;

  return (
    <div className="min-h-screen lg:pl-60">
      <a href="#main" className="sr-only focus:not-sr-only focus:fixed focus:left-2 focus:top-2 focus:z-50 focus:rounded-md focus:bg-white focus:px-3 focus:py-2 focus:shadow">
        Skip to content
      </a>
      <aside className="fixed inset-y-0 left-0 z-30 hidden w-60 flex-col overflow-y-auto border-r border-slate-200 bg-white px-3 py-4 lg:flex">
        <Link to="/" className="mb-6 flex items-center gap-2 px-3">
          <Logo className="size-7" />
          <span className="text-base font-semibold tracking-tight text-slate-900">Orchestra</span>
        </Link>
        <Navigation />
      </aside>
      {menuOpen && (
        <div className="fixed inset-0 z-40 lg:hidden">
          <div className="absolute inset-0 bg-slate-900/40" onClick={() => setMenuOpen(false)} aria-hidden="true" />
          <aside className="absolute inset-y-0 left-0 w-64 overflow-y-auto bg-white px-3 py-4 shadow-xl">
            <Navigation onNavigate={() => setMenuOpen(false)} />
          </aside>
        </div>
      )}
      <header className="sticky top-0 z-20 flex h-14 items-center gap-3 border-b border-slate-200 bg-white/90 px-4 backdrop-blur sm:px-6">
        <button type="button" className="rounded-md p-1.5 text-slate-600 hover:bg-slate-100 lg:hidden" onClick={() => setMenuOpen(true)} aria-label="Open menu" aria-expanded={menuOpen}>
          <Icon name="menu" className="size-5" />
        </button>
        <OrgSwitcher />
        <div className="ml-auto flex items-center gap-3">
          <ThemeToggle />
          <NotificationBell />
          <Link to="/account" className="hidden rounded-md px-1 text-right hover:bg-slate-100 sm:block" title="Your account: name and password">
            <p className="max-w-56 truncate text-sm font-medium leading-4 text-slate-800" data-testid="current-user" title={identity.user.name || identity.user.email}>
              {identity.user.name || identity.user.email}
            </p>
            <p className="max-w-56 truncate text-xs text-slate-500" title={identity.user.email}>{identity.user.email}</p>
          </Link>
          <RoleBadge role={identity.role} />
          <Button
            variant="ghost"
            size="sm"
            busy={signingOut}
            onClick={() => {
              setSigningOut(true);
              void services.signOut().finally(() => setSigningOut(false));
            }}
          >
            <Icon name="signOut" />
            Sign out
          </Button>
        </div>
      </header>
      <main id="main" className="mx-auto max-w-7xl px-4 py-6 sm:px-6 lg:px-8">
        {/* Pages start afresh in another organization (their state and live subscriptions belonged to the old one). */}
        <div key={identity.organization.id}>
          <VerifyEmailBanner />
          <Outlet />
        </div>
      </main>
    </div>
  );
}

export const appLayoutRoute = createRoute({ getParentRoute: () => rootRoute, id: 'app', component: AppLayout });
