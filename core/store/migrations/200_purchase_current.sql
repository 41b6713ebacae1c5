-- Purchase documents that count: not replaced by a later batch (rolled-back batches'
-- documents are deleted, so they never show here).
CREATE VIEW current_purchase_docs AS
SELECT * FROM purchase_docs WHERE replaced_by_batch IS NULL;
