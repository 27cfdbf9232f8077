-- Run metrics (issue 12): runMetrics reads the runs an organization created in a range, bucketed by
-- time. This index makes that a range scan of the organization's runs (the status and times it
-- counts and takes percentiles of are included, so it can be answered from the index alone), and lets the
-- failure-code query reach only the range's rows.
CREATE INDEX runs_org_created ON runs (org_id, created_at) INCLUDE (status, workflow_id, app_id, start_at, started_at, finished_at);
