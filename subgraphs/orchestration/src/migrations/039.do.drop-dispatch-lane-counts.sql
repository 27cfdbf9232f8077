-- Takes 038's lane counts out again: at the task-path bench's small backlog (~100-200 waiting) the
-- outbox's statement triggers cost PostgreSQL more per task than the backlog count they replaced
-- (queue-latency 300/s, 3 x 2 runs, load 11-18: 3.49/3.57/4.85 -> 4.42/5.29/5.28 ms/task). The
-- fair rank counts the outbox again (store/run-starts.ts, store/fair-share.ts), as before 038.
DROP TRIGGER dispatch_outbox_counted_in ON dispatch_outbox;
DROP TRIGGER dispatch_outbox_counted_out ON dispatch_outbox;
DROP TRIGGER dispatch_outbox_counted_moved ON dispatch_outbox;
DROP TRIGGER dispatch_outbox_counted_empty ON dispatch_outbox;
DROP FUNCTION dispatch_outbox_counted();
DROP FUNCTION dispatch_outbox_counted_moved();
DROP FUNCTION dispatch_outbox_counted_empty();
DROP TABLE dispatch_lane_counts;
