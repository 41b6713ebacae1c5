"""What rolling back a purchase-register batch would do, in counts and rupees, for the
confirmation shown before it: the documents it removes (and their value) and the documents of
earlier batches it made stale, which come back."""
from __future__ import annotations

from core.store import connect


def rollback_figures(batch_id: int) -> dict:
    """{documents, taxable, tax, value, businesses} the rollback removes and {restored} it
    brings back (rupees)."""
    with connect(read_only=True) as con:
        removed = con.execute(
            "SELECT count(*), coalesce(sum(txval), 0), coalesce(sum(coalesce(igst, 0) + "
            "coalesce(cgst, 0) + coalesce(sgst, 0) + coalesce(cess, 0)), 0), "
            "coalesce(sum(doc_value), 0), count(DISTINCT rtin) FROM purchase_docs "
            "WHERE batch_id = ? AND replaced_by_batch IS NULL", [int(batch_id)]).fetchone()
        restored = con.execute("SELECT count(*) FROM purchase_docs WHERE replaced_by_batch = ?",
                               [int(batch_id)]).fetchone()[0]
    return {"documents": removed[0], "taxable": removed[1], "tax": removed[2],
            "value": removed[3], "businesses": removed[4], "restored": restored}
