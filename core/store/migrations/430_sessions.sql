-- Logged-in sessions (issue 12, docs/security.md). A browser keeps a signed token naming one
-- row here (the cookie `ims_session`); the row says whether the session still holds: it ends
-- on logout, after the idle timeout, when the user is disabled or their password is changed
-- or reset, and at `expires_at` at the latest. The token's key is never stored here.
CREATE TABLE app_sessions (
    session_id   VARCHAR PRIMARY KEY,   -- 128 random bits, url-safe; only valid when signed
    user_id      BIGINT NOT NULL,
    started_at   TIMESTAMP NOT NULL,    -- UTC
    last_seen_at TIMESTAMP NOT NULL,    -- UTC; updated at most once a minute per session
    expires_at   TIMESTAMP NOT NULL,    -- UTC; the longest a session may last
    ended_at     TIMESTAMP,             -- UTC; NULL while the session holds
    end_reason   VARCHAR                -- logout | session_timeout | password changed | ...
);
