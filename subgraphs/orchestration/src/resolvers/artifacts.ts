import { signArtifactUrl } from '@orchestra/lib';
import { readArtifactRetention, setArtifactRetention } from '../artifacts/retention-settings';
import type { ArtifactRow } from '../store/artifacts';
import type { AttemptRow, TaskRow } from '../store/rows';
import type { OrchestrationContext as Ctx } from './index';

/** Task.artifacts, TaskAttempt.artifacts, Artifact and the organization's retention setting. */
export const artifactResolvers = {
  Query: {
    artifactRetention: (_: unknown, _args: unknown, ctx: Ctx) => readArtifactRetention(ctx.engine, ctx.principal),
  },
  Mutation: {
    setArtifactRetention: (_: unknown, args: { days: number }, ctx: Ctx) => setArtifactRetention(ctx.engine, ctx.principal, args.days),
  },
  Task: {
    artifacts: async (t: TaskRow, _: unknown, ctx: Ctx) => (await ctx.loaders.artifactsOfTask.load(t.id)) ?? [],
  },
  TaskAttempt: {
    artifacts: async (a: AttemptRow, _: unknown, ctx: Ctx) => ((await ctx.loaders.artifactsOfTask.load(a.taskId)) ?? []).filter((x) => x.attemptId === a.id),
  },
  Artifact: {
    // Signed for the row's org, which row-level security made the caller's: the gateway serves it to whoever holds the URL until it expires.
    downloadUrl(a: ArtifactRow, _: unknown, ctx: Ctx) {
      const { ARTIFACT_URL_KEYS: keys, ARTIFACT_URL_TTL_SECONDS: ttl, ARTIFACT_URL_BASE: base } = ctx.engine.config;
      if (!keys) return null;
      return signArtifactUrl(keys, { artifactId: a.id, orgId: a.orgId, expiresAt: Math.floor(Date.now() / 1000) + ttl }, base ?? '');
    },
  },
};
