-- The run metrics rollup's histograms as json (text kept as written), not jsonb (migration 032):
-- runMetrics passes them through to the service as they are, and converting jsonb back to text was
-- most of the read's time at 30 days (720 hourly rows of 40 to 80 buckets each: 42 ms of execution
-- with jsonb, 21 ms with json, at load ~28). Written compact: {"<bucket index>":runs,...}.

-- A histogram as compact json text from its buckets and counts ('{}' for none).
CREATE FUNCTION run_metrics_hist_json(buckets integer[], counts bigint[]) RETURNS json LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
  $$ SELECT coalesce('{' || string_agg(format('"%s":%s', b, n), ',' ORDER BY b) || '}', '{}')::json
       FROM unnest(buckets, counts) AS u(b, n) WHERE n > 0 $$;

ALTER TABLE run_metrics_hourly
  ALTER duration_hist DROP DEFAULT,
  ALTER queue_wait_hist DROP DEFAULT,
  ALTER duration_hist TYPE json USING replace(replace(duration_hist::text, ': ', ':'), ', ', ',')::json,
  ALTER queue_wait_hist TYPE json USING replace(replace(queue_wait_hist::text, ': ', ':'), ', ', ',')::json,
  ALTER duration_hist SET DEFAULT '{}',
  ALTER queue_wait_hist SET DEFAULT '{}';

-- The sum of two histograms ({"<bucket index>":count}).
DROP FUNCTION run_metrics_hist_add(jsonb, jsonb);
CREATE FUNCTION run_metrics_hist_add(a json, b json) RETURNS json LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
  $$ SELECT run_metrics_hist_json(array_agg(k), array_agg(n))
       FROM (SELECT k::int AS k, sum(v::bigint)::bigint AS n FROM (SELECT * FROM json_each_text(a) UNION ALL SELECT * FROM json_each_text(b)) AS e(k, v) GROUP BY 1) AS s $$;
