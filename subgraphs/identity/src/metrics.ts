import type { Metrics } from '@orchestra/lib';

/** identity's own Prometheus series, registered up front so /metrics shows them before the first event. */
export function createIdentityMetrics(metrics: Metrics) {
  return {
    signIns: metrics.counter('identity_sign_ins_total', 'Successful sign-ins'),
    signInFailures: metrics.counter('identity_sign_in_failures_total', 'Failed sign-in attempts (wrong password or unknown email)'),
    signInRateLimited: metrics.counter('identity_sign_in_rate_limited_total', 'Sign-in attempts refused by the failure rate limit', ['by']),
    refreshFailures: metrics.counter('identity_refresh_failures_total', 'Refresh-token uses refused, by reason', ['reason']),
    authenticate: metrics.counter('identity_authenticate_total', 'IdentityService.Authenticate answers', ['credential', 'outcome']),
  };
}

export type IdentityMetrics = ReturnType<typeof createIdentityMetrics>;
