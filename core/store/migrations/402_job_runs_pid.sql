-- The process that runs a job (its pid), so that a run whose process is gone (killed,
-- crashed, power cut) can be told apart from one still running and closed as stopped.
-- `abandoned` marks such a run; `stopped` stays for a run stopped on purpose (SIGTERM).
ALTER TABLE job_runs ADD COLUMN pid INTEGER;
ALTER TABLE job_runs ADD COLUMN abandoned BOOLEAN DEFAULT FALSE;
