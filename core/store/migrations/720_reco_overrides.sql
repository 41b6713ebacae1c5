-- Manual matches and broken pairs (issue 25; docs/reconciliation.md, "Decisions by hand").
-- One row per decision a person took on the engine's pairing of a portal record with a books
-- document: `link` (use this pair as given) or `break` (never pair these two again). Every
-- later reconciliation reads the active rows before its passes. Nothing is deleted: an undo, a
-- confirmation after a change and a drop are states of the row, each also in action_log.
CREATE SEQUENCE reco_override_seq START 1;

CREATE TABLE reco_overrides (
    override_id  BIGINT PRIMARY KEY DEFAULT nextval('reco_override_seq'),
    rtin         VARCHAR NOT NULL,        -- the business
    source       VARCHAR NOT NULL,        -- ims (the IMS record's own pairing with the books)
    record_id    BIGINT NOT NULL,         -- the portal record (ims_records.record_id)
    doc_id       BIGINT NOT NULL,         -- the books document (purchase_docs.doc_id)
    doc_type     VARCHAR NOT NULL,        -- the books document's type and number when decided
    doc_no       VARCHAR NOT NULL,        -- (kept: a rollback deletes the document)
    kind         VARCHAR NOT NULL,        -- link | break
    reason       VARCHAR NOT NULL,        -- why, in the person's words
    state        VARCHAR NOT NULL,        -- active | needs_review | undone | dropped
    portal_fp    UBIGINT,                 -- the record's portal fingerprint when decided
    created_by   VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL,      -- UTC
    review_why   VARCHAR,                 -- what changed, while state = needs_review
    changed_by   VARCHAR,                 -- who last undid, confirmed or dropped it
    changed_at   TIMESTAMP                -- UTC
);
