-- Worker-local model providers (issue 14): the base URLs of the LLM servers on a worker's own machine
-- (its Ollama or vLLM, http://127.0.0.1:11434/v1), as the worker declares them when it registers
-- (WorkerInfo.llm_endpoints), trimmed of trailing slashes like a provider's base URL. The dispatcher
-- places a step whose providers are worker-local only on a worker that declares every one of their
-- URLs (store/dispatch.ts lockFreeSlots: llm_endpoints @> the step's). Fleet data like the rest of
-- the row: no organization's, read by all (workers_read), written only by system work.
ALTER TABLE workers ADD COLUMN llm_endpoints text[] NOT NULL DEFAULT '{}';
