-- GSP sessions per business (issue 17, docs/portal-api.md "Session", docs/security.md).
-- API access is enabled by the taxpayer per GSTIN for a period; an OTP buys a token that
-- expires and is refreshed until that period ends. The token (and whatever the GSP hands back
-- with the OTP request) is kept only sealed (core/secrets_box.py, Fernet); OTPs are never kept.
CREATE TABLE gsp_sessions (
    gstin            VARCHAR PRIMARY KEY,
    username         VARCHAR NOT NULL,      -- the GSTIN's GST portal username
    access_ends_at   TIMESTAMP,             -- UTC; the end of the API access period enabled
    state            VARCHAR NOT NULL,      -- otp_sent | connected | refresh_failed | needs_otp
    reason           VARCHAR,               -- the last problem, in words (never a secret)
    token_sealed     VARCHAR,               -- the auth token, sealed; NULL when none is held
    otp_context_sealed VARCHAR,             -- what OTPREQUEST answered (some GSPs: a txn id)
    token_issued_at  TIMESTAMP,             -- UTC
    token_expires_at TIMESTAMP,             -- UTC
    otp_requested_at TIMESTAMP,             -- UTC
    connected_at     TIMESTAMP,             -- UTC; the last OTP exchange
    refreshed_at     TIMESTAMP,             -- UTC; the last good refresh
    updated_at       TIMESTAMP NOT NULL,
    updated_by       VARCHAR
);
