-- Reconciliation kind 2b_vs_pr (docs/month-close.md, "GSTR-2B against the purchase register"):
-- each row keeps the 2B's facts beside the match: the supplier's trade name, whether ITC is
-- available (Y N T) and why not (rsn), the supplier's period and filing date, whether the
-- document was rejected in IMS (docRejdata), and what to do before GSTR-3B, in words.
-- Empty for the other kinds.
ALTER TABLE reco_results ADD COLUMN trdnm VARCHAR;
ALTER TABLE reco_results ADD COLUMN itcavl VARCHAR;
ALTER TABLE reco_results ADD COLUMN rsn VARCHAR;
ALTER TABLE reco_results ADD COLUMN supprd VARCHAR;
ALTER TABLE reco_results ADD COLUMN supfildt DATE;
ALTER TABLE reco_results ADD COLUMN rejected_in_ims BOOLEAN;
ALTER TABLE reco_results ADD COLUMN itc_advice VARCHAR;
