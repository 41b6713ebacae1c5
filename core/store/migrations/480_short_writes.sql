-- Short writes (docs/store.md, "The worker's writes"): a fetch writes only what changed.
-- portal_fp: a fingerprint of the record's portal columns as last written (Polars row hash;
-- NULL = unknown, then the record is compared column by column on the next fetch).
-- last_seen now changes only when the record is written (new, changed, back); the time of a
-- business's last complete IMS fetch is in ims_fetch_marks.
ALTER TABLE ims_records ADD COLUMN portal_fp UBIGINT;
ALTER TABLE gstr2a_docs ADD COLUMN doc_fp UBIGINT;

CREATE TABLE ims_fetch_marks (
    rtin        VARCHAR PRIMARY KEY,
    ims_at      TIMESTAMP,               -- last complete IMS fetch (every record seen then)
    gstr2a_at   TIMESTAMP                -- last complete GSTR-2A fetch
);
