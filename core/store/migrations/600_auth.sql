-- Users of the app, their per-GSTIN grants, and the security audit log (issue 7).
-- Passwords are stored only as argon2 hashes. Admins see every business; other roles see
-- only the GSTINs granted to them in user_gstins.
CREATE SEQUENCE user_seq START 1;

CREATE TABLE users (
    user_id       BIGINT PRIMARY KEY DEFAULT nextval('user_seq'),
    email         VARCHAR NOT NULL UNIQUE,     -- trimmed, lower-cased
    password_hash VARCHAR NOT NULL,            -- argon2id PHC string, never the password
    role          VARCHAR NOT NULL,            -- admin | analyst | auditor
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins INTEGER NOT NULL DEFAULT 0,  -- consecutive failures since the last login
    locked_until  TIMESTAMP,                   -- UTC; no login before this
    created_by    VARCHAR,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP
);

CREATE TABLE user_gstins (
    user_id    BIGINT NOT NULL,
    gstin      VARCHAR NOT NULL,
    granted_by VARCHAR,
    granted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, gstin)
);

CREATE SEQUENCE audit_seq START 1;

-- Logins, failed logins, lockouts, logouts, timeouts, user and role changes.
CREATE TABLE audit_log (
    audit_id  BIGINT DEFAULT nextval('audit_seq'),
    logged_at TIMESTAMP NOT NULL,             -- UTC
    actor     VARCHAR NOT NULL,               -- email of who did it, or cli / demo / system
    event     VARCHAR NOT NULL,
    detail    VARCHAR
);
