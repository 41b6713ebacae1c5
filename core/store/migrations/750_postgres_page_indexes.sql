-- postgres only
-- The indexes the page queries need on PostgreSQL (docs/store.md, "Page queries"). DuckDB
-- answers the same queries by scanning its columns (min/max per row group), so the file gets
-- none of these (core/store/database.py, POSTGRES_ONLY).

-- One record by its id: a save (its rows read and updated), the record view, a page's rows.
-- Without it every save reads the whole table (DuckDB skips by the id's min/max per row
-- group; ids grow with the inserts).
CREATE UNIQUE INDEX ims_records_id ON ims_records (record_id);
CREATE INDEX purchase_docs_id ON purchase_docs (doc_id);
-- A record's history (the record view).
CREATE INDEX action_log_record ON action_log (record_id);

-- The Reconciliation page: one run's rows, by status, in the page's order
-- (match_status, supplier_gstin, portal_doc_no); also the deletion of an abandoned run's rows.
CREATE INDEX reco_results_page ON reco_results (run_id, match_status, supplier_gstin,
                                                portal_doc_no);

-- The IMS Invoices page in its default order (newest document first): the first pages read
-- in order and stop, for every business together ...
CREATE INDEX ims_records_newest ON ims_records (doc_date DESC NULLS LAST, record_id)
    WHERE removed_at IS NULL;
-- ... and for one business of many.
CREATE INDEX ims_records_business_newest ON ims_records (rtin, doc_date DESC NULLS LAST,
                                                          record_id)
    WHERE removed_at IS NULL;

-- Room in each page for a row's new version: the sync's and the saves' updates change no
-- indexed column, so with room on the page PostgreSQL writes them in place of the old (a HOT
-- update) instead of adding an entry to every index above. Pages written from now on.
ALTER TABLE ims_records SET (fillfactor = 80);
