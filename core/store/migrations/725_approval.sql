-- Approval before upload and actions from a sheet (issue 25, docs/approval.md).
-- A business may require a second person's approval before its actions go to the portal
-- (off by default). While it does, a saved action is a proposal: approval_state says where it
-- is (NULL: no approval needed or asked; proposed; approved; returned to its author, who is
-- user_action_by), approval_by and approval_at who approved or returned it and when, and
-- approval_comment their comment.
ALTER TABLE businesses ADD COLUMN approval_required BOOLEAN DEFAULT FALSE;
ALTER TABLE ims_records ADD COLUMN approval_state VARCHAR;
ALTER TABLE ims_records ADD COLUMN approval_by VARCHAR;
ALTER TABLE ims_records ADD COLUMN approval_at TIMESTAMP;
ALTER TABLE ims_records ADD COLUMN approval_comment VARCHAR;

-- Who may approve the actions of which business (the permission `approve`, granted per user
-- and GSTIN by an admin; admins approve for every business).
CREATE TABLE user_approvals (
    user_id    BIGINT NOT NULL,
    gstin      VARCHAR NOT NULL,
    granted_by VARCHAR,
    granted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, gstin)
);
