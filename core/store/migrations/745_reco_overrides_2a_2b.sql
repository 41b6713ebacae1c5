-- Decisions by hand on GSTR-2A and GSTR-2B documents too (issue 25; docs/reconciliation.md,
-- "Decisions by hand"). Such a document has no id of its own in the store (a re-fetch replaces
-- the period's rows), so a decision names it by its document key: the business (rtin), the
-- supplier, the document type, the financial year and the number of its amendment chain's
-- original (as the engine's chains and pass 1 read them: trimmed, upper case), with `source`
-- 2a or 2b. `portal_fp` then holds a fingerprint of the chain's latest version (amounts,
-- date, place of supply) when decided: a re-fetch that changes it puts the decision in
-- "needs review". IMS decisions keep naming ims_records.record_id (these columns NULL).
ALTER TABLE reco_overrides ALTER COLUMN record_id DROP NOT NULL;
ALTER TABLE reco_overrides ADD COLUMN portal_stin VARCHAR;      -- 2a/2b: supplier GSTIN
ALTER TABLE reco_overrides ADD COLUMN portal_doc_type VARCHAR;  -- 2a/2b: INV CRN DBN ...
ALTER TABLE reco_overrides ADD COLUMN portal_fy INTEGER;        -- 2a/2b: first year of the FY
ALTER TABLE reco_overrides ADD COLUMN portal_key_no VARCHAR;    -- 2a/2b: the chain's number
ALTER TABLE reco_overrides ADD COLUMN portal_doc_no VARCHAR;    -- 2a/2b: the number as shown
