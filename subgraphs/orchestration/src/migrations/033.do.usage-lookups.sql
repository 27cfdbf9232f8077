-- Accounting reads by task, app and workflow (issue 14): Task.usage on the run page, App.stats.usage
-- and Workflow.usage. Without these each read walked every accounting row of the organization.
CREATE INDEX model_calls_task ON model_calls (task_id);
CREATE INDEX model_calls_app_time ON model_calls (app_id, created_at) WHERE app_id IS NOT NULL;
CREATE INDEX model_calls_workflow ON model_calls (workflow_id);
CREATE INDEX gpu_usage_task ON gpu_usage (task_id);
CREATE INDEX gpu_usage_app_time ON gpu_usage (app_id, created_at) WHERE app_id IS NOT NULL;
CREATE INDEX gpu_usage_workflow ON gpu_usage (workflow_id);
