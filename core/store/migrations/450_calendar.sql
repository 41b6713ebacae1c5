-- The month's calendar per business (docs/month-close.md): the filing frequency, dates the
-- team overrides per period (the government extended a due date), the GSTR-3B filing status
-- RETTRACK reports, and, on an IMS record, the filed return it left the portal's IMS with
-- (the record stays in the store, visible, with its action log).
ALTER TABLE businesses ADD COLUMN filing_frequency VARCHAR DEFAULT 'monthly';
CREATE TABLE calendar_overrides (
    gstin      VARCHAR NOT NULL,
    ret_period VARCHAR NOT NULL,   -- MMYYYY; a quarter is named by its last month
    event      VARCHAR NOT NULL,   -- gstr2b (generated on) | gstr3b (due on)
    due_on     DATE NOT NULL,
    set_by     VARCHAR NOT NULL,
    set_at     TIMESTAMP NOT NULL, -- UTC
    PRIMARY KEY (gstin, ret_period, event)
);
CREATE TABLE return_filings (
    gstin      VARCHAR NOT NULL,
    ret_period VARCHAR NOT NULL,   -- MMYYYY as RETTRACK names it
    rtntype    VARCHAR NOT NULL,   -- GSTR3B
    status     VARCHAR NOT NULL,   -- Filed | Not Filed | ... as RETTRACK says
    filed_on   DATE,               -- dof
    arn        VARCHAR,
    mode       VARCHAR,            -- mof
    fetched_at TIMESTAMP NOT NULL, -- UTC
    PRIMARY KEY (gstin, ret_period, rtntype)
);
ALTER TABLE ims_records ADD COLUMN left_ims_at TIMESTAMP;   -- UTC; NULL while on the portal
ALTER TABLE ims_records ADD COLUMN filed_period VARCHAR;    -- the GSTR-3B it left IMS with
