"""The sandbox generator's purchase registers go through the importer (several seeds).

Larger CSV files are read by Polars in several chunks; filtering such a frame can leave an
empty chunk, on which Polars 2.1's pl.format panicked ("assertion failed: i < self.len()")
inside the importer's warning checks. These tests pin that the importer copes.
"""
from __future__ import annotations

import polars as pl
import pytest

from core.purchase import import_purchase_file, problems_csv_bytes, read_purchase_documents
from core.purchase.validate import say
from core.store.database import connect
from sandbox.demo import DEMO_BUSINESSES
from sandbox.generate import generate_files


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_generated_register_reads_without_errors(tmp_path, seed):
    counts = generate_files(tmp_path, records=5000, seed=seed, books_only=True)
    v = read_purchase_documents(tmp_path / "purchase_register.csv")
    assert v.ok, v.problems.filter(pl.col("severity") == "error").head(5)
    assert v.docs.height + v.duplicates.height == counts["pr_documents"]
    assert v.docs["line_count"].sum() + v.duplicates["line_count"].sum() == counts["pr_lines"] == v.line_count
    inter = v.problems.filter(pl.col("field") == "cgst")
    assert inter.height > 0  # the generator's wrong-head noise is flagged, with both state codes
    assert inter["message"].str.contains(r"^CGST/SGST on a supply from state \d{2} to place of supply \d{2} ").all()
    assert "error" not in problems_csv_bytes(v, include_warnings=True).decode()


def test_generated_register_imports_into_the_store(db_file, tmp_path):
    business = DEMO_BUSINESSES[0]
    with connect() as con:
        con.execute("INSERT INTO businesses (gstin, name, state_code) VALUES (?, ?, ?)",
                    [business["gstin"], business["name"], business["state_code"]])
    counts = generate_files(tmp_path, records=5000, seed=1, books_only=True)
    result = import_purchase_file(tmp_path / "purchase_register.csv")
    assert result.batch_id is not None
    with connect(db_file, read_only=True) as con:
        stored = con.execute("SELECT count(*) FROM purchase_docs WHERE batch_id = ?", [result.batch_id]).fetchone()[0]
    assert stored == result.imported == counts["pr_documents"] - result.validation.duplicates.height


def test_say_copes_with_an_empty_chunk_left_by_filter():
    parts = [pl.DataFrame({"s": [f"v{i}-{j}" for j in range(n)], "n": list(range(n))}) for i, n in enumerate([2, 3, 4])]
    frame = pl.concat(parts, rechunk=False).filter(
        pl.Series([True, False, False, False, False, True, True, False, True]))
    assert 0 in [c.len() for c in frame["s"].get_chunks()]  # the shape that made pl.format panic
    out = frame.select(say("'{}' is item {} of {}", pl.col("s"), pl.col("n"), pl.col("s").str.slice(0, 2)).alias("m"))
    assert out["m"].to_list() == ["'v0-0' is item 0 of v0", "'v2-0' is item 0 of v2",
                                  "'v2-1' is item 1 of v2", "'v2-3' is item 3 of v2"]
    nulls = pl.DataFrame({"a": ["x", None]}).select(say("[{}]", pl.col("a")).alias("m"))
    assert nulls["m"].to_list() == ["[x]", None]
    with pytest.raises(ValueError, match="wants 2 values"):
        say("{} {}", pl.col("a"))
