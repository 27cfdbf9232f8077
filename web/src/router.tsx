import { createRouter } from '@tanstack/react-router';
import type { AppServices } from './lib/api/services';
import { acceptInvitationRoute } from './routes/accept-invitation';
import { accountRoute } from './routes/account';
import { apiKeysRoute } from './routes/api-keys';
import { appDetailRoute } from './routes/app-detail';
import { appLayoutRoute } from './routes/app-layout';
import { appsRoute } from './routes/apps';
import { approvalsRoute } from './routes/approvals';
import { auditRoute } from './routes/audit';
import { dashboardRoute } from './routes/dashboard';
import { deadLettersRoute } from './routes/dead-letters';
import { forgotPasswordRoute } from './routes/forgot-password';
import { membersRoute } from './routes/members';
import { metricsRoute } from './routes/metrics';
import { notificationPreferencesRoute } from './routes/notification-preferences';
import { notificationsRoute } from './routes/notifications';
import { providersRoute } from './routes/providers';
import { resetPasswordRoute } from './routes/reset-password';
import { rootRoute } from './routes/root';
import { runDetailRoute } from './routes/run-detail';
import { runsRoute } from './routes/runs';
import { rateLimitsRoute } from './routes/rate-limits';
import { schedulesRoute } from './routes/schedules';
import { secretsRoute } from './routes/secrets';
import { signInRoute } from './routes/sign-in';
import { signUpRoute } from './routes/sign-up';
import { ssoCallbackRoute } from './routes/sso-callback';
import { ssoSettingsRoute } from './routes/sso-settings';
import { triggersRoute } from './routes/triggers';
import { usageRoute } from './routes/usage';
import { verifyEmailRoute } from './routes/verify-email';
import { webhooksRoute } from './routes/webhooks';
import { workersRoute } from './routes/workers';
import { workflowDetailRoute } from './routes/workflow-detail';
import { newWorkflowRoute, newWorkflowVersionRoute } from './routes/workflow-editor';
import { workflowsRoute } from './routes/workflows';

export const routeTree = rootRoute.addChildren([
  signInRoute,
  signUpRoute,
  acceptInvitationRoute,
  forgotPasswordRoute,
  resetPasswordRoute,
  verifyEmailRoute,
  ssoCallbackRoute,
  appLayoutRoute.addChildren([
    dashboardRoute,
    workflowsRoute,
    newWorkflowRoute,
    workflowDetailRoute,
    newWorkflowVersionRoute,
    runsRoute,
    runDetailRoute,
    deadLettersRoute,
    approvalsRoute,
    triggersRoute,
    schedulesRoute,
    rateLimitsRoute,
    workersRoute,
    appsRoute,
    appDetailRoute,
    membersRoute,
    apiKeysRoute,
    auditRoute,
    accountRoute,
    secretsRoute,
    webhooksRoute,
    notificationsRoute,
    notificationPreferencesRoute,
    ssoSettingsRoute,
    usageRoute,
    providersRoute,
    metricsRoute,
  ]),
]);

export function createAppRouter(services: AppServices) {
  return createRouter({ routeTree, context: { services }, defaultPreload: 'intent', scrollRestoration: true });
}

declare module '@tanstack/react-router' {
  interface Register {
    router: ReturnType<typeof createAppRouter>;
  }
}
