-- Businesses (GSTINs) the team works for, and their schedule.
CREATE TABLE businesses (
    gstin         VARCHAR PRIMARY KEY,          -- recipient GSTIN (rtin)
    name          VARCHAR NOT NULL,
    state_code    VARCHAR NOT NULL,
    enabled       BOOLEAN NOT NULL DEFAULT TRUE, -- "Business to Auto-generate IMS"
    fetch_time    VARCHAR NOT NULL DEFAULT '06:00', -- HH:MM in IMS_TZ
    sync_source   VARCHAR NOT NULL DEFAULT 'ims_vs_pr', -- ims_vs_pr | 2a_vs_pr | off
    created_at    TIMESTAMP NOT NULL DEFAULT current_timestamp,
    updated_at    TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- Global settings: tolerance (rupees), date_window (days), policy (balanced|strict), gsp_url.
CREATE TABLE settings (
    key        VARCHAR PRIMARY KEY,
    value      VARCHAR,
    updated_at TIMESTAMP DEFAULT current_timestamp
);

CREATE SEQUENCE ims_record_seq START 1;

-- One row per IMS record as the portal shows it, plus our user's action, the
-- recommendation written by sync, and the upload state. Identity:
-- (rtin, section, stin, doc_no_key, fy, occurrence). occurrence numbers records
-- that share all the rest within one fetch (the portal can list a document twice).
CREATE TABLE ims_records (
    record_id        BIGINT NOT NULL DEFAULT nextval('ims_record_seq'),
    rtin             VARCHAR NOT NULL,
    section          VARCHAR NOT NULL,   -- b2b b2ba b2bcn b2bcna b2bdn b2bdna ecom ecoma impg
    stin             VARCHAR NOT NULL,
    doc_type         VARCHAR NOT NULL,   -- INV CRN DBN BOE
    doc_no           VARCHAR NOT NULL,
    doc_no_key       VARCHAR NOT NULL,   -- trimmed, upper-cased doc_no
    doc_date         DATE,
    fy               VARCHAR NOT NULL,   -- e.g. 2025-26
    occurrence       INTEGER NOT NULL DEFAULT 0,
    orig_doc_no      VARCHAR,            -- amendments: oinum / ont_num
    orig_doc_date    DATE,
    inv_typ          VARCHAR,
    pos              VARCHAR,
    val              DECIMAL(18,2),
    txval            DECIMAL(18,2),
    igst             DECIMAL(18,2),
    cgst             DECIMAL(18,2),
    sgst             DECIMAL(18,2),
    cess             DECIMAL(18,2),
    srcform          VARCHAR,
    rtnprd           VARCHAR,            -- MMYYYY
    srcfilstatus     VARCHAR,            -- Filed | Not Filed
    portal_action    VARCHAR,            -- A R P N as the portal holds it
    ispendactblocked VARCHAR,            -- Y | N
    hash             VARCHAR,
    itc_red_req      VARCHAR,
    decl_igst        DECIMAL(18,2),
    decl_cgst        DECIMAL(18,2),
    decl_sgst        DECIMAL(18,2),
    decl_cess        DECIMAL(18,2),
    portal_remarks   VARCHAR,
    stin_valid       BOOLEAN,            -- portal GSTINs are never rejected, only flagged
    first_seen       TIMESTAMP NOT NULL,
    last_seen        TIMESTAMP NOT NULL,
    changed_at       TIMESTAMP,          -- last time the supplier edited it (hash changed)
    removed_at       TIMESTAMP,          -- no longer on the portal
    -- the user's own action (never overwritten by sync)
    user_action      VARCHAR,            -- A R P N(=reset to no action) or NULL
    user_remarks     VARCHAR,
    user_action_by   VARCHAR,
    user_action_at   TIMESTAMP,
    -- the recommendation written by sync
    match_status     VARCHAR,
    reasons          VARCHAR,
    recommended_action VARCHAR,
    prev_recommended_action VARCHAR,
    counterpart_doc_id BIGINT,           -- purchase_docs.doc_id
    reco_run_id      BIGINT,
    synced_at        TIMESTAMP,
    -- upload
    upload_state     VARCHAR,            -- NULL | held | sent | done | error
    upload_error     VARCHAR,
    upload_request_id BIGINT,
    uploaded_at      TIMESTAMP
);

-- GSTR-2A documents, flattened to one row per document (amounts summed over items).
CREATE TABLE gstr2a_docs (
    rtin          VARCHAR NOT NULL,
    ret_period    VARCHAR NOT NULL,      -- MMYYYY
    section       VARCHAR NOT NULL,      -- b2b b2ba cdn cdna
    stin          VARCHAR NOT NULL,
    doc_type      VARCHAR NOT NULL,      -- INV CRN DBN
    doc_no        VARCHAR NOT NULL,
    doc_date      DATE,
    orig_doc_no   VARCHAR,
    orig_doc_date DATE,
    inv_typ       VARCHAR,
    pos           VARCHAR,
    rcm           VARCHAR,
    cfs           VARCHAR,               -- supplier filed GSTR-1 (Y/N)
    val           DECIMAL(18,2),
    txval         DECIMAL(18,2),
    igst          DECIMAL(18,2),
    cgst          DECIMAL(18,2),
    sgst          DECIMAL(18,2),
    cess          DECIMAL(18,2),
    fetched_at    TIMESTAMP NOT NULL
);

CREATE SEQUENCE job_run_seq START 1;

-- Every worker or app job: fetch, sync, upload, poll.
CREATE TABLE job_runs (
    run_id      BIGINT PRIMARY KEY DEFAULT nextval('job_run_seq'),
    job         VARCHAR NOT NULL,        -- fetch_ims | fetch_2a | sync | upload | poll
    gstin       VARCHAR,
    slot        TIMESTAMP,               -- the scheduled time this run serves (UTC)
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    ok          BOOLEAN,
    error       VARCHAR,
    counts      VARCHAR,                 -- JSON: new, changed, removed, unchanged, ...
    triggered_by VARCHAR                 -- schedule | catch-up | cli | app:<user>
);

CREATE SEQUENCE action_log_seq START 1;

-- Every change of user action, recommendation and upload outcome. The portal forgets
-- after GSTR-3B; this log does not.
CREATE TABLE action_log (
    log_id     BIGINT DEFAULT nextval('action_log_seq'),
    logged_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    actor      VARCHAR NOT NULL,         -- user email, 'worker', 'supplier'
    rtin       VARCHAR,
    record_id  BIGINT,
    kind       VARCHAR NOT NULL,         -- user_action | recommendation | upload | supplier_edit | removed
    old_value  VARCHAR,
    new_value  VARCHAR,
    note       VARCHAR
);

CREATE SEQUENCE upload_request_seq START 1;

-- SAVE / RESET batches sent to the portal and their REQSTS outcome.
CREATE TABLE upload_requests (
    request_id   BIGINT PRIMARY KEY DEFAULT nextval('upload_request_seq'),
    rtin         VARCHAR NOT NULL,
    reqtyp       VARCHAR NOT NULL,       -- SAVE | RESET
    reference_id VARCHAR,                -- int_tran_id from the portal
    record_count INTEGER,
    status       VARCHAR,                -- IP P PE ER, or FAILED when never accepted
    proc_cnt     INTEGER,
    err_cnt      INTEGER,
    error_report VARCHAR,                -- JSON as returned
    actor        VARCHAR,
    sent_at      TIMESTAMP NOT NULL,
    last_polled_at TIMESTAMP,
    finished_at  TIMESTAMP
);

CREATE TABLE upload_items (
    request_id  BIGINT NOT NULL,
    record_id   BIGINT NOT NULL,
    action      VARCHAR,                 -- A R P, or N for reset
    prev_status VARCHAR,
    result      VARCHAR,                 -- NULL pending | ok | error
    error_cd    VARCHAR,
    error_msg   VARCHAR
);
