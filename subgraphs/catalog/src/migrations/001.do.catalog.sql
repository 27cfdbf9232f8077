-- The catalog of AI applications. Every table carries org_id and is protected by row-level
-- security: tenant transactions (role orchestra_catalog_tenant) see and write their org's rows only.

CREATE TABLE apps (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  slug text NOT NULL,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  -- A user of identity (federation reference; identity owns the row).
  owner_id uuid,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'archived')),
  tags text[] NOT NULL DEFAULT '{}',
  health_check_url text,
  config_schema_version integer NOT NULL,
  -- NULL until a first config is published.
  current_config_version integer,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT apps_org_slug_key UNIQUE (org_id, slug)
);
CREATE INDEX apps_org_id_desc ON apps (org_id, id DESC);
CREATE INDEX apps_org_name ON apps (org_id, lower(name), id);
CREATE INDEX apps_tags ON apps USING gin (tags);

-- Every JSON Schema an app has had; configs name the one they were validated against.
CREATE TABLE app_config_schemas (
  org_id uuid NOT NULL,
  app_id uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
  version integer NOT NULL CHECK (version > 0),
  schema jsonb NOT NULL,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (app_id, version)
);

-- Immutable config versions; apps.current_config_version says which one is in force.
CREATE TABLE app_config_versions (
  org_id uuid NOT NULL,
  app_id uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
  version integer NOT NULL CHECK (version > 0),
  config jsonb NOT NULL,
  schema_version integer NOT NULL,
  message text NOT NULL DEFAULT '',
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (app_id, version),
  FOREIGN KEY (app_id, schema_version) REFERENCES app_config_schemas (app_id, version)
);

-- Which version became current when, by whom, and how (a publish, a rollback or a schema change
-- that came with a migrated config): the record a rollback leaves.
CREATE TABLE app_config_activations (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  app_id uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
  version integer NOT NULL,
  previous_version integer,
  kind text NOT NULL CHECK (kind IN ('publish', 'rollback')),
  reason text NOT NULL DEFAULT '',
  activated_by uuid,
  activated_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (app_id, version) REFERENCES app_config_versions (app_id, version)
);
CREATE INDEX app_config_activations_app ON app_config_activations (app_id, id DESC);

ALTER TABLE apps ADD CONSTRAINT apps_current_config_fk
  FOREIGN KEY (id, current_config_version) REFERENCES app_config_versions (app_id, version) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE apps ADD CONSTRAINT apps_config_schema_fk
  FOREIGN KEY (id, config_schema_version) REFERENCES app_config_schemas (app_id, version) DEFERRABLE INITIALLY DEFERRED;

-- Versions are history: nothing may rewrite one, whatever role runs the statement.
CREATE FUNCTION catalog_reject_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER app_config_versions_immutable BEFORE UPDATE ON app_config_versions FOR EACH ROW EXECUTE FUNCTION catalog_reject_update();
CREATE TRIGGER app_config_schemas_immutable BEFORE UPDATE ON app_config_schemas FOR EACH ROW EXECUTE FUNCTION catalog_reject_update();
CREATE TRIGGER app_config_activations_immutable BEFORE UPDATE ON app_config_activations FOR EACH ROW EXECUTE FUNCTION catalog_reject_update();

-- Health: one row per app that declares a health-check URL, holding the current status and
-- counters; the prober claims due rows across orgs (system transactions, SKIP LOCKED).
CREATE TABLE app_health (
  app_id uuid PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
  org_id uuid NOT NULL,
  status text NOT NULL DEFAULT 'unknown' CHECK (status IN ('unknown', 'up', 'down')),
  status_since timestamptz NOT NULL DEFAULT now(),
  consecutive_failures integer NOT NULL DEFAULT 0,
  checks_total bigint NOT NULL DEFAULT 0,
  checks_failed bigint NOT NULL DEFAULT 0,
  last_checked_at timestamptz,
  last_latency_ms integer,
  last_http_status integer,
  last_error text,
  monitoring_since timestamptz NOT NULL DEFAULT now(),
  next_check_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX app_health_due ON app_health (next_check_at);

-- Only status changes are kept (not every probe), and old ones are pruned, so this stays small.
CREATE TABLE app_health_changes (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  app_id uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
  status text NOT NULL CHECK (status IN ('unknown', 'up', 'down')),
  previous_status text NOT NULL CHECK (previous_status IN ('unknown', 'up', 'down')),
  changed_at timestamptz NOT NULL DEFAULT now(),
  http_status integer,
  error text
);
CREATE INDEX app_health_changes_app ON app_health_changes (app_id, changed_at DESC, id DESC);

ALTER TABLE apps ENABLE ROW LEVEL SECURITY;
CREATE POLICY apps_tenant ON apps USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
ALTER TABLE app_config_schemas ENABLE ROW LEVEL SECURITY;
CREATE POLICY app_config_schemas_tenant ON app_config_schemas USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
ALTER TABLE app_config_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY app_config_versions_tenant ON app_config_versions USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
ALTER TABLE app_config_activations ENABLE ROW LEVEL SECURITY;
CREATE POLICY app_config_activations_tenant ON app_config_activations USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
ALTER TABLE app_health ENABLE ROW LEVEL SECURITY;
CREATE POLICY app_health_tenant ON app_health USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
ALTER TABLE app_health_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY app_health_changes_tenant ON app_health_changes USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
