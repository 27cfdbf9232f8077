import type { AppQuery, UpdateAppInput } from './api/__generated__/graphql';

type App = NonNullable<AppQuery['app']>;

export interface AppForm {
  name: string;
  slug: string;
  description: string;
  tags: string;
  healthCheckUrl: string;
  ownerId: string;
}

/** The fields of `form` that differ from the app, as updateApp takes them (an emptied URL or owner is cleared). */
export function appChanges(app: Pick<App, 'name' | 'slug' | 'description' | 'tags' | 'healthCheckUrl' | 'owner'>, form: AppForm): UpdateAppInput {
  const changes: UpdateAppInput = {};
  if (form.name.trim() !== app.name) changes.name = form.name.trim();
  if (form.slug.trim() !== app.slug) changes.slug = form.slug.trim();
  if (form.description.trim() !== app.description) changes.description = form.description.trim();
  const tags = form.tags.split(',').map((t) => t.trim()).filter(Boolean);
  if (tags.join(',') !== app.tags.join(',')) changes.tags = tags;
  const url = form.healthCheckUrl.trim();
  if (url !== (app.healthCheckUrl ?? '')) changes.healthCheckUrl = url || null;
  if (form.ownerId !== (app.owner?.id ?? '')) changes.ownerId = form.ownerId || null;
  return changes;
}
