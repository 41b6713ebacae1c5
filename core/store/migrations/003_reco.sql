CREATE SEQUENCE reco_run_seq START 1;

-- One reconciliation run (from sync or from the Reconciliation page).
CREATE TABLE reco_runs (
    run_id      BIGINT PRIMARY KEY DEFAULT nextval('reco_run_seq'),
    rtin        VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,        -- ims_vs_pr | 2a_vs_pr
    periods     VARCHAR,                 -- comma-separated MMYYYY, empty = all
    policy      VARCHAR NOT NULL,
    tolerance   DECIMAL(18,2) NOT NULL,
    date_window INTEGER NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    counts      VARCHAR,                 -- JSON: status -> count
    triggered_by VARCHAR,
    job_run_id  BIGINT
);

-- Its rows: one per portal record and per unmatched books document.
CREATE TABLE reco_results (
    run_id             BIGINT NOT NULL,
    portal_id          BIGINT,           -- ims_records.record_id (ims) or row number (2a)
    ims_record_id      BIGINT,
    pr_doc_id          BIGINT,
    match_status       VARCHAR NOT NULL,
    match_pass         VARCHAR,
    recommended_action VARCHAR,
    reasons            VARCHAR,
    company_gstin      VARCHAR,
    supplier_gstin     VARCHAR,
    doc_type           VARCHAR,
    rtnprd             VARCHAR,
    portal_doc_no      VARCHAR,
    portal_doc_date    DATE,
    pr_doc_no          VARCHAR,
    pr_doc_date        DATE,
    pr_line            INTEGER,
    portal_txval       DECIMAL(18,2),
    pr_txval           DECIMAL(18,2),
    portal_tax         DECIMAL(18,2),
    pr_tax             DECIMAL(18,2),
    diff_txval         DECIMAL(18,2),
    diff_igst          DECIMAL(18,2),
    diff_cgst          DECIMAL(18,2),
    diff_sgst          DECIMAL(18,2),
    diff_cess          DECIMAL(18,2),
    diff_tax           DECIMAL(18,2),
    nearest_doc_no     VARCHAR,
    nearest_reason     VARCHAR
);
