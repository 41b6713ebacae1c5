-- GSTR-2B per business and period (docs/month-close.md): the latest one fetched, with its
-- generation date, version and summary (itcsumm, as the portal sent it), and its documents
-- (docdata, and docRejdata with rejected_in_ims). Replaced whole when a newer one is fetched.
CREATE TABLE gstr2b_returns (
    gstin      VARCHAR NOT NULL,
    rtnprd     VARCHAR NOT NULL,   -- MMYYYY
    version    VARCHAR,
    gendt      DATE,               -- generated on
    itcsumm    VARCHAR NOT NULL,   -- JSON
    documents  BIGINT NOT NULL,
    fetched_at TIMESTAMP NOT NULL, -- UTC
    PRIMARY KEY (gstin, rtnprd)
);
CREATE TABLE gstr2b_documents (
    gstin           VARCHAR NOT NULL,
    rtnprd          VARCHAR NOT NULL,
    section         VARCHAR NOT NULL,   -- b2b b2ba cdnr cdnra ecom ecoma isd impg impgsez
    stin            VARCHAR NOT NULL,   -- supplier GSTIN, or the port code (impg)
    trdnm           VARCHAR,
    doc_type        VARCHAR NOT NULL,   -- INV CRN DBN BOE ISD
    doc_no          VARCHAR NOT NULL,
    doc_no_key      VARCHAR NOT NULL,   -- trimmed, upper-cased
    doc_date        DATE,
    orig_doc_no     VARCHAR,
    orig_doc_date   DATE,
    pos             VARCHAR,
    rcm             VARCHAR,
    inv_typ         VARCHAR,
    val             DECIMAL(18,2),
    txval           DECIMAL(18,2),
    igst            DECIMAL(18,2),
    cgst            DECIMAL(18,2),
    sgst            DECIMAL(18,2),
    cess            DECIMAL(18,2),
    itcavl          VARCHAR,            -- Y N T
    rsn             VARCHAR,
    supprd          VARCHAR,
    supfildt        DATE,
    rejected_in_ims BOOLEAN NOT NULL,
    line            BIGINT
);
CREATE INDEX gstr2b_documents_period ON gstr2b_documents (gstin, rtnprd);
