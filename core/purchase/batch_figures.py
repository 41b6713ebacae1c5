"""What rolling back a purchase-register batch would do, in counts and rupees, for the
confirmation shown before it: the documents it removes (and their value) and the documents of
earlier batches it made stale, which come back."""
from __future__ import annotations

from core.store import connect


def rollback_figures(batch_id: int) -> dict:
    """{documents, taxable, tax, value, businesses} the rollback removes and {restored} it
    brings back (rupees); amounts net, as the file adds up: credit notes subtract."""
    signed = "CASE WHEN doc_type = 'CRN' THEN -1 ELSE 1 END * "
    with connect(read_only=True) as con:
        removed = con.execute(
            f"SELECT count(*), coalesce(sum({signed}txval), 0), coalesce(sum({signed}("
            "coalesce(igst, 0) + coalesce(cgst, 0) + coalesce(sgst, 0) + coalesce(cess, 0))), 0), "
            f"coalesce(sum({signed}doc_value), 0), count(DISTINCT rtin) FROM purchase_docs "
            "WHERE batch_id = ? AND replaced_by_batch IS NULL", [int(batch_id)]).fetchone()
        restored = con.execute("SELECT count(*) FROM purchase_docs WHERE replaced_by_batch = ?",
                               [int(batch_id)]).fetchone()[0]
    return {"documents": removed[0], "taxable": removed[1], "tax": removed[2],
            "value": removed[3], "businesses": removed[4], "restored": restored}
