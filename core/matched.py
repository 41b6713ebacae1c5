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


# reason tokens of a pair whose amounts, place of supply or reverse charge differ: the engine
# calls such a pair `mismatch`; a pair made by hand keeps `manual` and these tokens
DIFFERENCES = ("TAXABLE_VALUE", "IGST", "CGST", "SGST", "CESS", "POS", "RCM")


def differs_sql(reasons: str = "reasons") -> str:
    """SQL (both engines) true when the `reasons` column names a difference of DIFFERENCES."""
    padded = f"(';' || coalesce({reasons}, '') || ';')"
    return "(" + " OR ".join(f"{padded} LIKE '%;{t};%'" for t in DIFFERENCES) + ")"


def agrees(status: str | None, reasons: str | None) -> bool:
    """Matched and agreeing with the books: `exact`, `partial`, or a pair made by hand whose
    reasons name no difference of amounts, place of supply or reverse charge."""
    if status == "manual":
        return not set((reasons or "").split(";")) & set(DIFFERENCES)
    return status in MATCHED and status != "manual"
