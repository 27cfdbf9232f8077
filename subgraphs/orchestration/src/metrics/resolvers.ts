import { badInput, isUuid } from '@orchestra/lib';
import { checkUsageRange } from '../resolvers/usage';
import type { OrchestrationContext as Ctx } from '../resolvers/index';
import { BUCKET_MS, type MetricsBucket } from './run-metrics';
import { runMetrics } from './run-metrics-read';
import { poolSlotUsage, SLOT_USAGE_RETENTION_DAYS } from './slot-usage';
import { usageSeries, type UsageSeriesPoint, type UsageSplitBy } from './usage-series';

/** GraphQL of the charts: usage per day split by a key (issue 14), run metrics by time bucket (issue 12). */

/** The most points usageSeries answers with (366 days of a dozen providers fit). */
export const USAGE_SERIES_MAX_POINTS = 5_000;
/** runMetrics' bounds: the longest range, the most buckets, the most failure codes. */
export const RUN_METRICS_MAX_RANGE_DAYS = 92;
export const RUN_METRICS_MAX_BUCKETS = 1_000;
export const RUN_METRICS_FAILURE_CODES = 10;

const optionalId = (value: string | null | undefined, field: string): string | undefined => {
  if (value === null || value === undefined) return undefined;
  if (!isUuid(value)) throw badInput(field, `${field} must be an id (a UUID)`, 'INVALID_ID');
  return value;
};

/** Worker ids and pool names are the fleet's own text (not UUIDs), 1 to 200 characters as the registry takes them. */
const optionalFleetName = (value: string | null | undefined, field: string): string | undefined => {
  if (value === null || value === undefined) return undefined;
  if (value.length === 0 || value.length > 200) throw badInput(field, `${field} must have 1 to 200 characters`, 'INVALID_NAME');
  return value;
};

/** Checks runMetrics' range: from before to, at most RUN_METRICS_MAX_RANGE_DAYS, at most RUN_METRICS_MAX_BUCKETS buckets. */
export function checkMetricsRange(from: Date, to: Date, bucket: MetricsBucket): void {
  const span = to.getTime() - from.getTime();
  if (span <= 0) throw badInput('to', '`to` must be after `from`', 'INVALID_RANGE');
  if (span > RUN_METRICS_MAX_RANGE_DAYS * 86_400_000) throw badInput('to', `at most ${RUN_METRICS_MAX_RANGE_DAYS} days from \`from\` to \`to\``, 'RANGE_TOO_LONG');
  if (Math.ceil(span / BUCKET_MS[bucket]) + 1 > RUN_METRICS_MAX_BUCKETS) {
    throw badInput('bucket', `at most ${RUN_METRICS_MAX_BUCKETS} buckets: choose a wider bucket or a shorter range`, 'TOO_MANY_BUCKETS');
  }
}

type Point = UsageSeriesPoint & { splitBy: UsageSplitBy };

export const metricsResolvers = {
  Query: {
    async usageSeries(_: unknown, args: { from: Date; to: Date; splitBy: UsageSplitBy }, ctx: Ctx) {
      checkUsageRange(args.from, args.to);
      const points = await ctx.engine.inTenant(ctx.principal, (tx) => usageSeries(tx, args.from, args.to, args.splitBy, USAGE_SERIES_MAX_POINTS));
      return points.map((p): Point & { totalTokens: number } => ({ ...p, totalTokens: p.promptTokens + p.completionTokens, splitBy: args.splitBy }));
    },
    async runMetrics(_: unknown, args: { from: Date; to: Date; bucket: MetricsBucket; workflowId?: string | null; appId?: string | null; workerId?: string | null }, ctx: Ctx) {
      checkMetricsRange(args.from, args.to, args.bucket);
      const scope = {
        from: args.from,
        to: args.to,
        bucket: args.bucket,
        workflowId: optionalId(args.workflowId, 'workflowId'),
        appId: optionalId(args.appId, 'appId'),
        workerId: optionalFleetName(args.workerId, 'workerId'),
      };
      const metrics = await ctx.engine.inTenant(ctx.principal, (tx) => runMetrics(tx, scope, RUN_METRICS_FAILURE_CODES));
      return { from: args.from, to: args.to, bucket: args.bucket, ...metrics };
    },
    async poolSlotUsage(_: unknown, args: { from: Date; to: Date; bucket: MetricsBucket; pool?: string | null }, ctx: Ctx) {
      checkMetricsRange(args.from, args.to, args.bucket);
      if (Date.now() - args.from.getTime() > (SLOT_USAGE_RETENTION_DAYS + 1) * 86_400_000) {
        throw badInput('from', `slot usage is kept ${SLOT_USAGE_RETENTION_DAYS} days: choose a later \`from\``, 'RANGE_TOO_OLD');
      }
      const pool = optionalFleetName(args.pool, 'pool');
      // The fleet is shared infrastructure (like Query.workers): its samples are no organization's rows.
      const pools = await ctx.engine.inSystem((tx) => poolSlotUsage(tx, { from: args.from, to: args.to, bucket: args.bucket, pool }));
      return { from: args.from, to: args.to, bucket: args.bucket, pools };
    },
  },
  UsageSeriesPoint: {
    app: (p: Point) => (p.splitBy === 'APP' && isUuid(p.key) ? { __typename: 'App', id: p.key } : null),
    workflow: async (p: Point, _: unknown, ctx: Ctx) => (p.splitBy === 'WORKFLOW' && isUuid(p.key) ? ((await ctx.loaders.workflow.load(p.key)) ?? null) : null),
  },
};
