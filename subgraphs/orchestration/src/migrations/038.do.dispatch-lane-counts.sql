-- A queued attempt's fair rank (flow-control/fair-share.ts) is how many attempts its organization
-- already has waiting in the pool at its priority or above. Counting them in the queue outbox cost
-- every start and every re-queue O(backlog) rows read, and, with this platform's PostgreSQL running
-- without autovacuum, every dead index entry the claims left behind (7–18 ms a count at 300 starts/s).
-- Here the outbox keeps its own counts: per lane (organization, pool, priority), a few rows whose
-- `waiting` sums to the lane's outbox rows, changed by statement-level triggers in the transaction
-- that inserts or deletes them (starts, re-queues, claims, cancels, forEach, cascades from
-- retention), so in any snapshot the sum equals the count it replaces.
--
-- Several rows per lane, not one: starts and claims of one organization all change its lane and
-- would queue on one row's lock until their COMMITs. A change takes any row of the lane no other
-- open transaction holds (SKIP LOCKED) and adds its delta there, or inserts a new row when all are
-- held, so no change ever waits. A row's `waiting` may go below 0 (a claim counted on another row
-- than the start); only the lane's sum means anything. A lane has about as many rows as it ever had
-- transactions changing it at once, whatever its backlog.
CREATE TABLE dispatch_lane_counts (
  org_id uuid NOT NULL,
  pool text NOT NULL,
  priority smallint NOT NULL,
  id bigint GENERATED ALWAYS AS IDENTITY,
  waiting integer NOT NULL,
  PRIMARY KEY (org_id, pool, priority, id)
);
-- (The default fillfactor: with 10, every read of a row pruned its page and logged it, which cost a
-- claim transaction more CPU than the count it saves.)

ALTER TABLE dispatch_lane_counts ENABLE ROW LEVEL SECURITY;
CREATE POLICY dispatch_lane_counts_tenant ON dispatch_lane_counts USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());

/*
 * The statement's outbox rows (`changed`: inserted ones for the INSERT trigger, deleted ones for the
 * DELETE trigger), counted per lane, added to a row of the lane that no other open transaction holds
 * (SKIP LOCKED: never a wait), or to a new row when all are held or the lane has none. A statement
 * changes one lane or a few (a start batch, a claim batch): a loop of two cached statements.
 */
CREATE FUNCTION dispatch_outbox_counted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  direction integer := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
  lane record;
BEGIN
  FOR lane IN SELECT org_id, pool, priority, count(*)::int AS n FROM changed GROUP BY org_id, pool, priority LOOP
    UPDATE dispatch_lane_counts c SET waiting = c.waiting + direction * lane.n
     WHERE c.org_id = lane.org_id AND c.pool = lane.pool AND c.priority = lane.priority
       AND c.id = (SELECT x.id FROM dispatch_lane_counts x
                    WHERE x.org_id = lane.org_id AND x.pool = lane.pool AND x.priority = lane.priority
                    ORDER BY x.id LIMIT 1 FOR UPDATE SKIP LOCKED);
    IF NOT FOUND THEN
      INSERT INTO dispatch_lane_counts (org_id, pool, priority, waiting) VALUES (lane.org_id, lane.pool, lane.priority, direction * lane.n);
    END IF;
  END LOOP;
  RETURN NULL;
END $$;

/* Nothing moves an outbox row to another lane today; if something does, it is counted there (rows of their own). */
CREATE FUNCTION dispatch_outbox_counted_moved() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO dispatch_lane_counts (org_id, pool, priority, waiting) VALUES (OLD.org_id, OLD.pool, OLD.priority, -1), (NEW.org_id, NEW.pool, NEW.priority, 1);
  RETURN NULL;
END $$;

CREATE FUNCTION dispatch_outbox_counted_empty() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM dispatch_lane_counts;
  RETURN NULL;
END $$;

CREATE TRIGGER dispatch_outbox_counted_in AFTER INSERT ON dispatch_outbox
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dispatch_outbox_counted();
CREATE TRIGGER dispatch_outbox_counted_out AFTER DELETE ON dispatch_outbox
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dispatch_outbox_counted();
CREATE TRIGGER dispatch_outbox_counted_moved AFTER UPDATE OF org_id, pool, priority ON dispatch_outbox
  FOR EACH ROW WHEN (OLD.org_id IS DISTINCT FROM NEW.org_id OR OLD.pool IS DISTINCT FROM NEW.pool OR OLD.priority IS DISTINCT FROM NEW.priority)
  EXECUTE FUNCTION dispatch_outbox_counted_moved();
CREATE TRIGGER dispatch_outbox_counted_empty AFTER TRUNCATE ON dispatch_outbox
  FOR EACH STATEMENT EXECUTE FUNCTION dispatch_outbox_counted_empty();

-- What already waits (the triggers above hold the outbox's writers off until this commits).
INSERT INTO dispatch_lane_counts (org_id, pool, priority, waiting)
SELECT org_id, pool, priority, count(*)::int FROM dispatch_outbox GROUP BY org_id, pool, priority;
