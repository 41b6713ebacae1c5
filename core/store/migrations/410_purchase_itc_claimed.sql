-- The ITC the company actually claims on a purchase-register document (optional register
-- columns itc_claimed, itc_claimed_igst .. itc_claimed_cess; docs/interfaces.md): they feed
-- the proposed ITC-reduction answer (docs/reconciliation.md). itc_claimed is 'N' only when
-- every line of the document says N; an amount is NULL when no line of the document gives it.
ALTER TABLE purchase_docs ADD COLUMN itc_claimed VARCHAR;
ALTER TABLE purchase_docs ADD COLUMN itc_claimed_igst DECIMAL(18,2);
ALTER TABLE purchase_docs ADD COLUMN itc_claimed_cgst DECIMAL(18,2);
ALTER TABLE purchase_docs ADD COLUMN itc_claimed_sgst DECIMAL(18,2);
ALTER TABLE purchase_docs ADD COLUMN itc_claimed_cess DECIMAL(18,2);
CREATE OR REPLACE VIEW current_purchase_docs AS
SELECT * FROM purchase_docs WHERE replaced_by_batch IS NULL;
