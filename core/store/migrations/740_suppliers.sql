-- Suppliers (docs/suppliers.md): the master per company (every GSTIN of one PAN shares it),
-- the suppliers' own returns as GSTR-2A shows them, and follow-up cases with their records.
CREATE TABLE suppliers (
    company_pan VARCHAR NOT NULL,   -- PAN of the company (characters 3-12 of its GSTINs)
    stin        VARCHAR NOT NULL,   -- supplier GSTIN
    pan         VARCHAR NOT NULL,   -- the supplier's PAN: its GSTINs are grouped by it
    legal_name  VARCHAR,
    trade_name  VARCHAR,
    emails      VARCHAR,            -- comma-separated contact e-mails
    phone       VARCHAR,
    notes       VARCHAR,
    name_source VARCHAR,            -- typed | books | 2B: where the name came from
    updated_by  VARCHAR NOT NULL,
    updated_at  TIMESTAMP NOT NULL, -- UTC
    PRIMARY KEY (company_pan, stin)
);

-- Per business, supplier and return period: what the GSTR-2A supplier group says.
CREATE TABLE supplier_returns (
    rtin         VARCHAR NOT NULL,
    stin         VARCHAR NOT NULL,
    ret_period   VARCHAR NOT NULL,  -- MMYYYY
    gstr1_filed  VARCHAR,           -- cfs: Y | N
    gstr3b_filed VARCHAR,           -- cfs3b: Y | N (NULL: the portal did not say)
    cancelled_on DATE,              -- dtcancel
    seen_at      TIMESTAMP NOT NULL, -- UTC, the fetch that read it
    PRIMARY KEY (rtin, stin, ret_period)
);

CREATE SEQUENCE supplier_case_seq START 1;

-- A follow-up with one supplier of one business: open -> sent -> replied -> resolved, or
-- dropped with a reason.
CREATE TABLE supplier_cases (
    case_id       BIGINT PRIMARY KEY DEFAULT nextval('supplier_case_seq'),
    rtin          VARCHAR NOT NULL,
    stin          VARCHAR NOT NULL,
    state         VARCHAR NOT NULL, -- open | sent | replied | resolved | dropped
    due_on        DATE,
    notes         VARCHAR,
    drop_reason   VARCHAR,
    opened_by     VARCHAR NOT NULL,
    opened_at     TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    sent_at       TIMESTAMP,
    reminded_at   TIMESTAMP,        -- the last reminder asked for
    closed_at     TIMESTAMP,
    closed_note   VARCHAR
);

-- The records a case asks the supplier to fix, and when a later fetch or sync showed the fix.
CREATE TABLE supplier_case_items (
    case_id    BIGINT NOT NULL,
    item_key   VARCHAR NOT NULL,    -- kind|section or doc type|document number|period
    kind       VARCHAR NOT NULL,    -- not_filed | mismatch | original_values | missing_on_portal | credit_note_awaited
    ret_period VARCHAR,
    record_id  BIGINT,              -- ims_records.record_id, where there is one
    doc_type   VARCHAR,             -- INV CRN DBN
    doc_no     VARCHAR,
    doc_no_key VARCHAR,             -- trimmed, upper-cased: how a later fetch finds it
    fy         VARCHAR,
    doc_date   DATE,
    itc        DECIMAL(18,2),       -- the ITC at stake when the case was opened
    to_fix     VARCHAR,             -- what the supplier is asked to do, in words
    fixed_at   TIMESTAMP,           -- UTC
    fixed_note VARCHAR,             -- what showed the fix, in words
    PRIMARY KEY (case_id, item_key)
);
