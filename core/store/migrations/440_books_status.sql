-- The books match of an IMS record (issue 13, docs/reconciliation.md "Sync source"): every
-- sync runs IMS vs PR as well as GSTR-2A vs PR; `books_status` keeps the IMS vs PR status
-- whichever source decides the recommendation, so the books counterpart stays visible.
ALTER TABLE ims_records ADD COLUMN books_status VARCHAR;
