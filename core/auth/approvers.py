"""Who may approve the IMS actions of which business: the permission `approve`, granted per
user and GSTIN by an admin (like the GSTINs a user may see). Admins approve for every business;
an analyst for the GSTINs granted to them that they may also see; an auditor never. Nobody
approves their own proposal (core/ims/approval.py checks that)."""
from __future__ import annotations

from core.auth.audit import record_audit
from core.auth.roles import AuthError, User, actor_name, can
from core.auth.users import _check_gstins, _existing
from core.clock import utc_now
from core.store import connect, transaction


def approval_gstins(user: User | None) -> list[str]:
    """The GSTINs whose proposals `user` may approve or return (sorted)."""
    if not can(user, "approve"):
        return []
    with connect() as con:
        if user.is_admin:
            rows = con.execute("SELECT gstin FROM businesses ORDER BY gstin").fetchall()
        else:
            rows = con.execute(
                "SELECT a.gstin FROM user_approvals a JOIN user_gstins g "
                "ON g.user_id = a.user_id AND g.gstin = a.gstin JOIN businesses b "
                "ON b.gstin = a.gstin WHERE a.user_id = ? ORDER BY a.gstin",
                [user.user_id]).fetchall()
    return [r[0] for r in rows]


def granted_approvals(email: str) -> list[str]:
    """The GSTINs granted to this user for approving (as stored; admins need none)."""
    with connect() as con:
        user = _existing(con, email)
        return [r[0] for r in con.execute("SELECT gstin FROM user_approvals WHERE user_id = ? "
                                          "ORDER BY gstin", [user.user_id]).fetchall()]


def grant_approvals(email: str, gstins: list[str], actor: User | str) -> list[str]:
    """Set the GSTINs this user may approve for to exactly `gstins` (empty = none); each must
    be a business the user may see. Audited. Returns them sorted."""
    by = actor_name(actor)
    with connect() as con, transaction(con):
        user = _existing(con, email)
        grants = _check_gstins(con, gstins)
        if grants and not can(user, "approve"):
            raise AuthError(f"{user.email} is an {user.role}: only analysts and admins may "
                            "approve actions")
        seen = {r[0] for r in con.execute("SELECT gstin FROM user_gstins WHERE user_id = ?",
                                          [user.user_id]).fetchall()}
        unseen = [g for g in grants if g not in seen and not user.is_admin]
        if unseen:
            raise AuthError(f"{user.email} may not see {', '.join(unseen)}: grant the business "
                            "first, then the approval")
        old = [r[0] for r in con.execute("SELECT gstin FROM user_approvals WHERE user_id = ? "
                                         "ORDER BY gstin", [user.user_id]).fetchall()]
        if old != grants:
            con.execute("DELETE FROM user_approvals WHERE user_id = ?", [user.user_id])
            if grants:
                con.executemany("INSERT INTO user_approvals VALUES (?, ?, ?, ?)",
                                [(user.user_id, g, by, utc_now()) for g in grants])
            record_audit(by, "approvals_granted", f"{user.email}: {','.join(old) or '-'} -> "
                                                  f"{','.join(grants) or '-'}", con)
    return grants
