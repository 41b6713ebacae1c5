"""The audit log: every login, failed login, lockout and user, role or setting change."""
from __future__ import annotations

from core.auth.roles import User
from core.clock import utc_now
from core.store import connect


def record_audit(actor: User | str, event: str, detail: str = "", con=None) -> None:
    """Append one audit row (inside the caller's transaction when `con` is given)."""
    name = actor.email if isinstance(actor, User) else str(actor)
    sql = "INSERT INTO audit_log (logged_at, actor, event, detail) VALUES (?, ?, ?, ?)"
    if con is not None:
        con.execute(sql, [utc_now(), name, event, detail])
        return
    with connect() as own:
        own.execute(sql, [utc_now(), name, event, detail])


def audit_entries(limit: int = 200, event: str | None = None) -> list[dict]:
    """The latest audit rows, newest first."""
    where, params = ("WHERE event = ?", [event]) if event else ("", [])
    with connect() as con:
        cur = con.execute(f"SELECT audit_id, logged_at, actor, event, detail FROM audit_log "
                          f"{where} ORDER BY audit_id DESC LIMIT ?", params + [int(limit)])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]
