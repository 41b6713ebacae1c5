"""Which match statuses count as matched to the books, in one place for every screen and
figure (docs/reconciliation.md, "Statuses").

A pair a person made (`manual`, "Matched by hand") is matched like the engine's own `exact`
and `partial` pairs: the Dashboard, the deadline panel, the value at risk and the digest
count it so. Its differences stay in its reasons and its recommendation follows from them.
`PAIRED` adds the pairs that differ or need a look (`probable`, `mismatch`): a books
document is still claimed against them.
"""
from __future__ import annotations

MATCHED = ("exact", "partial", "manual")
PAIRED = (*MATCHED, "probable", "mismatch")


def matched_sql(column: str = "match_status") -> str:
    """SQL true when `column` is a matched status (false for NULL: not reconciled yet)."""
    return f"coalesce({column}, '') IN ({', '.join(repr(s) for s in MATCHED)})"
