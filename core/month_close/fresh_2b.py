"""A GSTR-2B just fetched: stored, counted and reconciled (docs/month-close.md, "How the code
does it (GSTR-2B)").

`store_and_reconcile_2b(gstin, period, head, frame)` -> Fresh2b: the documents stored
(core.gstr2b.store_2b), "2B needs regeneration" counted (late_actions) and the 2B reconciled
with the books (kind 2b_vs_pr, the engine's settings) from the documents as they were read:
not read back from the store, but put in the order the store gives them back (by block,
section, line), so the rows are the ones reconciling the stored 2B gives. A store that fails
raises its own error (its one transaction leaves nothing written) and nothing is reconciled.
"""
from __future__ import annotations

from typing import NamedTuple

import polars as pl

from core.gstr2b import late_actions, store_2b
from core.ims import books_frame, read_settings
from core.reco import portal_frame_2b, reconcile_2b
from core.store import connect

STORED_ORDER = ["rejected_in_ims", "section", "line"]   # core.gstr2b.stored_2b_documents'


class Fresh2b(NamedTuple):
    stored: int             # documents stored
    late: int               # IMS records that make the 2B need regeneration
    results: pl.DataFrame   # reconcile_2b's rows


def as_stored(frame: pl.DataFrame) -> pl.DataFrame:
    """The 2B's documents in the order the store gives them back (already so: as they are)."""
    return frame if _in_stored_order(frame) else frame.sort(STORED_ORDER)


def _in_stored_order(frame: pl.DataFrame) -> bool:
    """Every row after the one before it by (block, section, line): a look at neighbours,
    not a sort."""
    after = pl.lit(False)
    for key in reversed(STORED_ORDER):   # (a, b, c) > (a', b', c'), built from the last key
        now, before = pl.col(key), pl.col(key).shift(1)
        after = (now > before) | ((now == before) & after)
    return bool(frame.select(after.slice(1).all()).item()) if frame.height > 1 else True


def store_and_reconcile_2b(gstin: str, period: str, head: dict,
                           frame: pl.DataFrame) -> Fresh2b:
    """Store the 2B of (gstin, period) (replacing the stored one), count its late actions and
    reconcile it with the current books, one after the other (DuckDB's writes beside Polars'
    reconcile were slower on two cores: docs/month-close.md)."""
    stored = store_2b(gstin, period, head, frame)
    late = late_actions([gstin]).get((gstin, period), 0)
    with connect(read_only=True) as con:
        settings = read_settings(con)
        books = books_frame(con, gstin)
    results = reconcile_2b(portal_frame_2b(as_stored(frame), gstin, period), books, **settings)
    return Fresh2b(stored, late, results)
