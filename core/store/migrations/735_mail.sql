-- Every mail the app sends (issue 26): who, when, to whom, what, the server's answer, its state.
-- state: sent | refused | retrying | failed (docs/mail.md). `pending_to` are the recipients
-- the server has not taken yet (a retry goes to them only); `message` is the whole mail as
-- text (attachments included, base64) so that a retry sends exactly what was asked for.
CREATE SEQUENCE mail_seq START 1;

CREATE TABLE mail_log (
    mail_id      BIGINT PRIMARY KEY DEFAULT nextval('mail_seq'),
    created_at   TIMESTAMP NOT NULL,          -- UTC
    sent_by      VARCHAR NOT NULL,            -- e-mail of the user, or worker / cli
    purpose      VARCHAR NOT NULL,            -- test | digest | job failed | statement | ...
    business_id  VARCHAR,                     -- the GSTIN it is about, when one
    recipients   VARCHAR NOT NULL,            -- comma separated
    pending_to   VARCHAR NOT NULL,            -- comma separated; empty once all took it
    subject      VARCHAR NOT NULL,
    attachments  VARCHAR NOT NULL,            -- file names, comma separated
    state        VARCHAR NOT NULL,
    answer       VARCHAR NOT NULL,            -- the server's answer (or why not), in words
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_try_at  TIMESTAMP,                   -- UTC; the worker retries from then
    sent_at      TIMESTAMP,                   -- UTC; when the last recipient was taken
    updated_at   TIMESTAMP NOT NULL,
    message      VARCHAR NOT NULL
);

-- Users choose whether they get the daily digest (on by default once they have an address).
ALTER TABLE users ADD COLUMN digest_opt_in BOOLEAN DEFAULT TRUE;

-- The daily digest: one row per user and business day, written before it is sent, so that
-- two workers (team mode) never send the same digest twice.
CREATE TABLE digest_days (
    user_id    BIGINT NOT NULL,
    day        DATE NOT NULL,
    mail_id    BIGINT,
    claimed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, day)
);
