-- Uploads wait in a queue (upload_state 'queued') because the portal runs one SAVE/RESET
-- per GSTIN at a time (IMSSAV0015): who asked for the upload, and when, is kept with
-- the record so that the batch the worker sends later still names that person.
ALTER TABLE ims_records ADD COLUMN upload_queued_by VARCHAR;
ALTER TABLE ims_records ADD COLUMN upload_queued_at TIMESTAMP;
