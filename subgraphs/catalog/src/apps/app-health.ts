import { AppError, newId, type PoolClient, type Principal } from '@orchestra/lib';
import type { AppRow } from '../store/apps';
import {
  deleteHealth,
  findHealth,
  insertHealthChange,
  listHealthChanges,
  resetHealth,
  secondsByStatus,
  setHealthProbing,
  type HealthChangeRow,
  type HealthRow,
} from '../store/health';
import { decodeCursor, parsePageSize } from './input';
import type { AppTransition } from './lifecycle';
import { isIdCursor, pageOf, type AppScope, type Page } from './scope';

export interface Uptime {
  windowSeconds: number;
  upSeconds: number;
  downSeconds: number;
  unknownSeconds: number;
  /** up / (up + down); null when the window holds no known status. */
  ratio: number | null;
}

/**
 * Where an app change meets the health prober: what each change does to the app's probes, in the
 * change's own transaction. A change that may make a probe due now is followed, after its commit, by
 * `onHealthScheduled` (the prober's wake(): it sleeps while no probe is due).
 */
export function createProbeScheduling({ inTenant }: AppScope, onHealthScheduled: (() => void) | undefined) {
  return {
    /** inTenant for changes that may start or resume an app's probes: the prober is told after the commit. */
    async inTenantProbing<T>(principal: Principal, fn: (tx: PoolClient) => Promise<T>): Promise<T> {
      const result = await inTenant(principal, fn);
      onHealthScheduled?.();
      return result;
    },

    /** A new app with a health-check URL: probed at once. */
    async startProbes(tx: PoolClient, app: AppRow): Promise<void> {
      if (app.health_check_url !== null) await resetHealth(tx, { appId: app.id, orgId: app.org_id, paused: false });
    },

    /** A new URL starts monitoring afresh; a removed one stops it. Status history notes the reset. */
    async applyHealthUrl(tx: PoolClient, app: AppRow, url: string | null): Promise<void> {
      if (url === null) {
        await deleteHealth(tx, app.id);
        return;
      }
      const before = await findHealth(tx, app.id);
      await resetHealth(tx, { appId: app.id, orgId: app.org_id, paused: app.status === 'archived' });
      if (before && before.status !== 'unknown') {
        await insertHealthChange(tx, {
          id: newId(),
          orgId: app.org_id,
          appId: app.id,
          status: 'unknown',
          previousStatus: before.status,
          httpStatus: null,
          error: 'health-check URL changed',
        });
      }
    },

    /** Archiving pauses an app's probes (its health is kept); restoring probes it at once. */
    async applyTransition(tx: PoolClient, appId: string, move: AppTransition): Promise<void> {
      if (move === 'archive') await setHealthProbing(tx, appId, false);
      if (move === 'restore') await setHealthProbing(tx, appId, true);
    },
  };
}

/** An app's health as the prober recorded it: the current status, its changes, uptime over a window. */
export function createAppHealthReads({ inTenant }: AppScope, historyDays: number) {
  return {
    async health(principal: Principal, appId: string): Promise<HealthRow | undefined> {
      return inTenant(principal, (tx) => findHealth(tx, appId));
    },

    async healthChanges(principal: Principal, appId: string, first: number | null | undefined, after: string | null | undefined): Promise<Page<HealthChangeRow>> {
      const limit = parsePageSize(first);
      const before = after === undefined || after === null ? undefined : decodeCursor(after, isIdCursor)[0];
      const rows = await inTenant(principal, (tx) => listHealthChanges(tx, appId, before, limit));
      return pageOf(rows, limit, (row) => [row.id], (row) => row);
    },

    async uptime(principal: Principal, appId: string, windowSeconds: number): Promise<Uptime> {
      const longest = historyDays * 86_400;
      if (!Number.isInteger(windowSeconds) || windowSeconds < 60 || windowSeconds > longest) {
        throw new AppError('BAD_USER_INPUT', `windowSeconds must be between 60 and ${longest} (the health history kept)`, { field: 'windowSeconds', reason: 'OUT_OF_RANGE' });
      }
      const rows = await inTenant(principal, (tx) => secondsByStatus(tx, appId, windowSeconds));
      const seconds = (status: string) => rows.find((r) => r.status === status)?.seconds ?? 0;
      const upSeconds = seconds('up');
      const downSeconds = seconds('down');
      const known = upSeconds + downSeconds;
      return { windowSeconds, upSeconds, downSeconds, unknownSeconds: seconds('unknown'), ratio: known > 0 ? upSeconds / known : null };
    },
  };
}
