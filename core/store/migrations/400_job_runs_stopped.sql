-- A scheduled job stopped on purpose (SIGTERM) before it finished: its writes were rolled
-- back, so the slot it served is still open and runs again when the worker starts.
-- A job that died with its worker (kill -9, power cut) is marked finished with an error
-- on the next start and keeps its slot (no crash loops).
ALTER TABLE job_runs ADD COLUMN stopped BOOLEAN DEFAULT FALSE;
