"""Purchase-register batches in the store: duplicates against stored documents, atomic
import, listing and rollback.

A stored document is current while `replaced_by_batch IS NULL` (view
`current_purchase_docs`). Replacing marks the older document with the new batch id;
rolling that batch back deletes its documents and clears the mark, so they are current again.
"""
from __future__ import annotations

import polars as pl

from core.money import rupees_sql
from core.store import connect, refresh_statistics, transaction

CLAIMED = ("itc_claimed_igst", "itc_claimed_cgst", "itc_claimed_sgst", "itc_claimed_cess")

KEY_JOIN = "s.rtin = n.rtin AND s.stin = n.stin AND s.doc_type = n.doc_type AND s.fy = n.fy " \
           "AND s.doc_no_key = n.doc_no_key"


class ImportRefused(ValueError):
    """The import was not done (errors in the file, file already imported, ...)."""


def configured_gstins() -> list[str]:
    with connect() as con:
        return [r[0] for r in con.execute("SELECT gstin FROM businesses ORDER BY gstin").fetchall()]


def stored_matches(docs: pl.DataFrame) -> pl.DataFrame:
    """For each new document that is already stored (current): line_no, doc_id, batch_id."""
    keys = docs.select("rtin", "stin", "doc_type", "fy", "doc_no_key", "line_no")
    with connect() as con:
        con.register("new_keys", keys)
        return con.sql(
            f"SELECT n.line_no, s.doc_id, s.batch_id, s.doc_no AS stored_doc_no, s.doc_date AS "
            f"stored_doc_date FROM new_keys n JOIN current_purchase_docs s ON {KEY_JOIN}").pl()


def previous_import(sha256: str) -> dict | None:
    """The live batch that imported this very file, if any."""
    with connect() as con:
        row = con.execute("SELECT batch_id, file_name, imported_at, imported_by FROM "
                          "purchase_batches WHERE sha256 = ? AND rolled_back_at IS NULL ORDER BY "
                          "batch_id DESC LIMIT 1",
                          [sha256]).fetchone()
    return dict(zip(["batch_id", "file_name", "imported_at", "imported_by"], row)) if row else None


_money = rupees_sql


def write_batch(batch: dict, docs: pl.DataFrame, replace_ids: list[int]) -> int:
    """One transaction: the batch row, the documents, and the replaced marks. Returns batch_id."""
    replaced = pl.DataFrame({"doc_id": replace_ids}, schema={"doc_id": pl.Int64})
    with connect() as con, transaction(con):
        con.register("docs_in", docs)
        con.register("replaced", replaced)
        batch_id = con.execute("SELECT nextval('purchase_batch_seq')").fetchone()[0]
        con.execute("INSERT INTO purchase_batches (batch_id, file_name, sha256, template, "
                    "line_count, doc_count, invalid_count, duplicate_count, warning_count, "
                    "duplicate_mode, imported_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [batch_id, batch["file_name"], batch["sha256"], batch["template"],
                     batch["line_count"],
                     docs.height, batch["invalid_count"], batch["duplicate_count"],
                     batch["warning_count"], batch["duplicate_mode"], batch["imported_by"]])
        _refuse_new_duplicates(con)
        if replace_ids:
            con.execute("UPDATE purchase_docs SET replaced_by_batch = ? WHERE doc_id IN (SELECT "
                        "doc_id FROM replaced)",
                        [batch_id])
        con.execute(f"""
            INSERT INTO purchase_docs (batch_id, rtin, stin, supplier_name, doc_type, doc_no,
                doc_no_key, doc_date, fy, pos, rcm, txval, igst, cgst, sgst, cess, doc_value,
                no_tax, line_no, line_count, itc_claimed, {', '.join(CLAIMED)},
                itc_ineligible_reason)
            SELECT ?, rtin, stin, supplier_name, doc_type, doc_no, doc_no_key, doc_date, fy, pos,
                rcm, {_money('txval')}, {_money('igst')}, {_money('cgst')}, {_money('sgst')},
                {_money('cess')}, {_money('doc_value')}, no_tax, line_no, line_count, itc_claimed,
                {', '.join(_money(c) for c in CLAIMED)}, itc_ineligible_reason
            FROM docs_in ORDER BY line_no""", [batch_id])
        # PostgreSQL: the next sync's read of the books planned for the documents there are now
        # (planned for the table before a first import of 200,000 documents, it joined each
        # one to the batches by a scan of its own)
    with connect() as con:
        refresh_statistics(con, "purchase_docs", docs.height)
    return batch_id


def _refuse_new_duplicates(con) -> None:
    """Another import may have stored some of these documents since validation: check again."""
    clash = con.execute(f"SELECT count(*) FROM docs_in n JOIN current_purchase_docs s ON "
                        f"{KEY_JOIN} WHERE s.doc_id NOT IN (SELECT doc_id FROM replaced)"
                        ).fetchone()[0]
    if clash:
        raise ImportRefused(f"{clash} of these documents were stored by another import meanwhile; "
                            "validate the file again")


def list_batches(limit: int = 100) -> list[dict]:
    """Latest batches first, with the count of their documents still current."""
    with connect() as con:
        cur = con.execute("""
            SELECT b.*, (SELECT count(*) FROM purchase_docs d WHERE d.batch_id = b.batch_id
                         AND d.replaced_by_batch IS NULL) AS current_docs
            FROM purchase_batches b ORDER BY b.batch_id DESC LIMIT ?""", [limit])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def rollback_batch(batch_id: int, actor: str = "cli") -> dict:
    """Remove a batch's documents and make the documents it replaced current again."""
    with connect() as con, transaction(con):
        row = con.execute("SELECT rolled_back_at FROM purchase_batches WHERE batch_id = ?",
                          [batch_id]).fetchone()
        if row is None:
            raise ImportRefused(f"there is no purchase batch {batch_id}")
        if row[0] is not None:
            raise ImportRefused(f"batch {batch_id} was already rolled back at "
                                f"{row[0]:%Y-%m-%d %H:%M}")
        later = con.execute("SELECT DISTINCT replaced_by_batch FROM purchase_docs WHERE batch_id = "
                            "? AND replaced_by_batch IS NOT NULL ORDER BY 1", [batch_id]).fetchall()
        if later:
            ids = ", ".join(str(r[0]) for r in later)
            raise ImportRefused(f"documents of batch {batch_id} were replaced by batch {ids}; roll "
                                f"that back first")
        removed = con.execute("DELETE FROM purchase_docs WHERE batch_id = ? RETURNING doc_id",
                              [batch_id]).fetchall()
        restored = con.execute("UPDATE purchase_docs SET replaced_by_batch = NULL WHERE "
                               "replaced_by_batch = ? RETURNING doc_id", [batch_id]).fetchall()
        con.execute("UPDATE purchase_batches SET rolled_back_at = current_timestamp, "
                    "rolled_back_by = ? WHERE batch_id = ?", [actor, batch_id])
    return {"batch_id": batch_id, "removed": len(removed), "restored": len(restored)}
