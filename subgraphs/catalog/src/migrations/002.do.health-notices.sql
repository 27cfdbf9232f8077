-- Health notices (issue 13): what the organization was last told about an app's health, so that the
-- prober announces a change (app.health_changed, through the notification outbox) only on a
-- transition between up and down, and at most once per quiet period however often the app flaps.
--   notified_status: the status last announced, or (first probe) the status first seen, which is not
--     announced; NULL until the app was first seen up or down.
--   notified_at: when the last notice was written (NULL: none yet, the next change is announced at once).
--   changes_since_notice: status changes since then, held while the quiet period runs.
ALTER TABLE app_health
  ADD COLUMN notified_status text CHECK (notified_status IN ('up', 'down')),
  ADD COLUMN notified_at timestamptz,
  ADD COLUMN changes_since_notice integer NOT NULL DEFAULT 0;
-- Apps already monitored start from what they show now: no notice for the status they are in.
UPDATE app_health SET notified_status = status WHERE status IN ('up', 'down');
