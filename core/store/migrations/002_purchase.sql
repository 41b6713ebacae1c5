CREATE SEQUENCE purchase_batch_seq START 1;

-- One imported purchase-register file.
CREATE TABLE purchase_batches (
    batch_id       BIGINT PRIMARY KEY DEFAULT nextval('purchase_batch_seq'),
    file_name      VARCHAR NOT NULL,
    sha256         VARCHAR NOT NULL,
    template       VARCHAR NOT NULL,
    line_count     INTEGER,
    doc_count      INTEGER,
    invalid_count  INTEGER,
    duplicate_count INTEGER,
    warning_count  INTEGER,
    duplicate_mode VARCHAR,              -- skip | replace
    imported_by    VARCHAR,
    imported_at    TIMESTAMP NOT NULL DEFAULT current_timestamp,
    rolled_back_at TIMESTAMP,
    rolled_back_by VARCHAR
);

CREATE SEQUENCE purchase_doc_seq START 1;

-- Purchase-register documents (lines of one document summed).
CREATE TABLE purchase_docs (
    doc_id        BIGINT NOT NULL DEFAULT nextval('purchase_doc_seq'),
    batch_id      BIGINT NOT NULL,
    rtin          VARCHAR NOT NULL,      -- company GSTIN
    stin          VARCHAR NOT NULL,      -- supplier GSTIN
    supplier_name VARCHAR,
    doc_type      VARCHAR NOT NULL,      -- INV CRN DBN BOE
    doc_no        VARCHAR NOT NULL,
    doc_no_key    VARCHAR NOT NULL,      -- trimmed, upper-cased
    doc_date      DATE NOT NULL,
    fy            VARCHAR NOT NULL,
    pos           VARCHAR,
    rcm           VARCHAR,               -- Y | N
    txval         DECIMAL(18,2),         -- absolute values; taxed lines only when any line is taxed
    igst          DECIMAL(18,2),
    cgst          DECIMAL(18,2),
    sgst          DECIMAL(18,2),
    cess          DECIMAL(18,2),
    doc_value     DECIMAL(18,2),
    no_tax        BOOLEAN NOT NULL DEFAULT FALSE, -- no taxed line at all
    line_no       INTEGER,               -- first 1-based data line in the file
    line_count    INTEGER,
    replaced_by_batch BIGINT,            -- set when a later batch replaced this document
    imported_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- User-defined column-mapping templates (built-ins live in code).
CREATE TABLE purchase_templates (
    name        VARCHAR PRIMARY KEY,
    mapping     VARCHAR NOT NULL,        -- JSON: canonical field -> source column
    date_format VARCHAR,
    cn_sign     VARCHAR,                 -- as_is | negative | positive
    options     VARCHAR,                 -- JSON: voucher-type mapping, sheet, ...
    created_by  VARCHAR,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);
