-- Why the ITC of a purchase-register document is ineligible (optional register column
-- itc_ineligible_reason; docs/interfaces.md): '17(5)', 'rule 38', 'rule 42', 'rule 43' or NULL
-- (eligible). Such ITC counts in GSTR-3B 4(A) and is reversed in 4(B)(1) (docs/month-close.md).
ALTER TABLE purchase_docs ADD COLUMN itc_ineligible_reason VARCHAR;
CREATE OR REPLACE VIEW current_purchase_docs AS
SELECT * FROM purchase_docs WHERE replaced_by_batch IS NULL;
