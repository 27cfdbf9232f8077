import { badInput, recordAudit, type Principal } from '@orchestra/lib';
import type { Engine } from '../engine/engine';
import { SERVICE } from '../engine/engine';
import { findRetentionDays, upsertRetentionDays } from '../store/artifacts';

/** An organization's artifact retention as the API shows it. */
export interface ArtifactRetention {
  days: number;
  isDefault: boolean;
}

export const RETENTION_DAYS = { min: 1, max: 365 } as const;

export async function readArtifactRetention(engine: Engine, principal: Principal): Promise<ArtifactRetention> {
  const days = await engine.inTenant(principal, (tx) => findRetentionDays(tx));
  return days === undefined ? { days: engine.config.ARTIFACT_RETENTION_DAYS, isDefault: true } : { days, isDefault: false };
}

/** Sets the organization's retention (admins; audited in the same transaction). */
export async function setArtifactRetention(engine: Engine, principal: Principal, days: number): Promise<ArtifactRetention> {
  if (!Number.isInteger(days) || days < RETENTION_DAYS.min || days > RETENTION_DAYS.max) {
    throw badInput('days', `days must be an integer from ${RETENTION_DAYS.min} to ${RETENTION_DAYS.max}`, 'INVALID_RETENTION');
  }
  const orgId = principal.orgId as string;
  return engine.inTenant(principal, async (tx) => {
    const before = await findRetentionDays(tx);
    await upsertRetentionDays(tx, orgId, days, principal.display ?? `${principal.kind}:${principal.id}`);
    await recordAudit(tx, SERVICE, principal, {
      action: 'artifacts.retention',
      targetType: 'Organization',
      targetId: orgId,
      diff: { before: { days: before ?? engine.config.ARTIFACT_RETENTION_DAYS }, after: { days } },
    });
    engine.log.info('artifact retention set', { orgId, days, requestId: principal.requestId });
    return { days, isDefault: false };
  });
}
