-- The ITC-reduction answer and the two texts (docs/reconciliation.md, "ITC-reduction
-- declaration" and "Remarks"). The portal's per-record flags; the proposal written by sync (rec_*); the
-- user's own answer (user_*, never overwritten by sync). `user_remarks` held the remark to the
-- supplier: it becomes `user_supplier_remark` with its data; `internal_note` is the team's own
-- text and never leaves the store. itc_red_req, decl_* and portal_remarks stay what the
-- portal holds.
ALTER TABLE ims_records ADD COLUMN is_itc_red_req_blocked VARCHAR;
ALTER TABLE ims_records ADD COLUMN is_remarks_blocked VARCHAR;
ALTER TABLE ims_records ADD COLUMN rec_itc_red_req VARCHAR;
ALTER TABLE ims_records ADD COLUMN rec_decl_igst DECIMAL(18,2);
ALTER TABLE ims_records ADD COLUMN rec_decl_cgst DECIMAL(18,2);
ALTER TABLE ims_records ADD COLUMN rec_decl_sgst DECIMAL(18,2);
ALTER TABLE ims_records ADD COLUMN rec_decl_cess DECIMAL(18,2);
ALTER TABLE ims_records ADD COLUMN rec_supplier_remark VARCHAR;
ALTER TABLE ims_records ADD COLUMN user_itc_red_req VARCHAR;
ALTER TABLE ims_records ADD COLUMN user_decl_igst DECIMAL(18,2);
ALTER TABLE ims_records ADD COLUMN user_decl_cgst DECIMAL(18,2);
ALTER TABLE ims_records ADD COLUMN user_decl_sgst DECIMAL(18,2);
ALTER TABLE ims_records ADD COLUMN user_decl_cess DECIMAL(18,2);
ALTER TABLE ims_records RENAME COLUMN user_remarks TO user_supplier_remark;
ALTER TABLE ims_records ADD COLUMN internal_note VARCHAR;
-- The proposal as the run computed it (empty where the question does not apply).
ALTER TABLE reco_results ADD COLUMN itc_red_req VARCHAR;
ALTER TABLE reco_results ADD COLUMN decl_igst DECIMAL(18,2);
ALTER TABLE reco_results ADD COLUMN decl_cgst DECIMAL(18,2);
ALTER TABLE reco_results ADD COLUMN decl_sgst DECIMAL(18,2);
ALTER TABLE reco_results ADD COLUMN decl_cess DECIMAL(18,2);
ALTER TABLE reco_results ADD COLUMN supplier_remark VARCHAR;
