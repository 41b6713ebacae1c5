"""Hostile input: quotes, semicolons and SQL fragments in document numbers, supplier names and
filters, through the real importer, the portal ingestion, the IMS view filters and the
downloads. Every value travels as a parameter and comes back verbatim; every download is
spreadsheet-safe (docs/interfaces.md); upload size and row caps give a clear message."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

import openpyxl
import pytest

from core import purchase
from core.clock import utc_now
from core.export import to_csv_bytes, to_excel_bytes
from core.ims import store as ims_store
from core.ims import view as ims_view
from core.ims.view import ImsFilter
from core.portal import payload as portal
from core.purchase import read as purchase_read
from core.store.database import connect, transaction
from tests.fixtures import BUSINESSES, SUPPLIERS, add_business

G1 = BUSINESSES[0][0]
HOSTILE = [
    "'; DROP TABLE ims_records; --",
    "x' OR '1'='1",
    'Robert"); DROP TABLE purchase_docs;--',
    "a;b;c",
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\tTAB",
    "%_\\",
]
TABLES = ("ims_records", "purchase_docs", "purchase_batches", "action_log", "businesses", "users")
HEADER = ["company_gstin", "supplier_gstin", "supplier_name", "doc_type", "doc_no", "doc_date", "place_of_supply", "reverse_charge", "taxable_value", "igst", "cgst", "sgst", "cess", "doc_value"]


@pytest.fixture
def businesses(db_file):
    """A store with the demo businesses and nothing else."""
    for gstin, name in BUSINESSES:
        add_business(gstin, name)
    return db_file


def table_counts() -> dict:
    with connect() as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def hostile_register() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i, text in enumerate(HOSTILE):
        doc_no = text.replace("\t", " ")[:40]
        writer.writerow([G1, SUPPLIERS[0], text, "INV", doc_no, "2025-10-03", "27", "N",
                         1000 + i, 0, 90, 90, 0, 1180 + i])
    return out.getvalue().encode()


def no_formula_cells(xlsx: bytes) -> list[str]:
    """Every text cell of the workbook; asserts none is a formula or starts with a trigger."""
    texts = []
    for row in openpyxl.load_workbook(io.BytesIO(xlsx)).active.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.value
            if isinstance(cell.value, str):
                plain_number = re.fullmatch(r"[+-]?\d+(\.\d+)?", cell.value)   # not a formula
                assert plain_number or not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), \
                    cell.value
                texts.append(cell.value)
    return texts


def test_importer_stores_hostile_names_and_numbers_verbatim(businesses):
    before = table_counts()
    result = purchase.import_purchase_file(hostile_register(), actor="ana@example.com",
                                           file_name="hostile.csv", today=dt.date(2025, 11, 12))
    assert result.ok, result.summary()
    assert result.imported == len(HOSTILE)
    with connect() as con:
        names = [r[0] for r in con.execute("SELECT supplier_name FROM purchase_docs WHERE batch_id = ? "
                                           "ORDER BY line_no", [result.batch_id]).fetchall()]
        numbers = {r[0] for r in con.execute("SELECT doc_no FROM purchase_docs WHERE batch_id = ?",
                                             [result.batch_id]).fetchall()}
    assert names == [h.strip() for h in HOSTILE]
    assert "'; DROP TABLE ims_records; --" in numbers
    after = table_counts()
    assert after["ims_records"] == before["ims_records"]
    assert after["purchase_docs"] == before["purchase_docs"] + len(HOSTILE)
    # the odd characters are reported, naming the file, the line and the field
    warnings = result.validation.messages(50, "warning")
    assert any("hostile.csv" in m and "line 1" in m and "doc_no" in m for m in warnings), warnings


def test_importer_problem_download_is_spreadsheet_safe(businesses):
    v = purchase.validate_purchase_file(hostile_register(), file_name="hostile.csv",
                                        today=dt.date(2025, 11, 12))
    text = purchase.problems_csv_bytes(v, include_warnings=True).decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert cells, "the problems download is empty"
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))]
    assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in cells


def store_portal_records(doc_numbers: list[str]) -> None:
    """Portal records with hostile numbers, through the real parser and ingestion."""
    payload = {"b2b": [{"stin": SUPPLIERS[1], "inum": n, "idt": "03-10-2025", "inv_typ": "R",
                        "pos": "27", "txval": 100 + i, "iamt": 18, "camt": 0, "samt": 0, "cess": 0,
                        "srcform": "R1", "rtnprd": "102025", "srcfilstatus": "Filed",
                        "action": "N", "ispendactblocked": "N", "val": 118 + i}
                       for i, n in enumerate(doc_numbers)]}
    frame = ims_store.incoming_frame(G1, portal.flatten_ims(payload))
    with connect() as con, transaction(con):
        ims_store.store_ims(con, G1, frame, utc_now(), "worker")


PORTAL_HOSTILE = ["'; DROP TABLE ims_records; --", "=1+2", "-99", "@A1", "O'BRIEN/1;2"]


def test_ims_filters_take_hostile_strings_as_plain_values(businesses):
    store_portal_records(PORTAL_HOSTILE)
    before = table_counts()
    scope = [G1]
    found = ims_view.records_page(scope, ImsFilter(doc_search="'; drop table"), None, 1)
    assert found["doc_no"].to_list() == ["'; DROP TABLE ims_records; --"]
    assert ims_view.records_page(scope, ImsFilter(doc_search="o'brien/1;2"), None, 1).height == 1
    for f in (ImsFilter(doc_search="' OR '1'='1"), ImsFilter(doc_search="%"),
              ImsFilter(doc_search="Q_Z"), ImsFilter(supplier="'; DROP TABLE ims_records; --"),
              ImsFilter(supplier="27' OR 1=1 --"), ImsFilter(sections=("b2b' OR 1=1 --",)),
              ImsFilter(periods=("102025'; DELETE FROM ims_records; --",)),
              ImsFilter(match_statuses=("exact') OR ('1'='1",)),
              ImsFilter(businesses=("' OR 1=1 --",))):
        assert ims_view.records_page(scope, f, None, 1).height == 0, f
        assert ims_view.bucket_counts(scope, f)["all"] == 0, f
    assert ims_view.records_page(["' OR 1=1 --"], ImsFilter(), None, 1).height == 0
    assert table_counts() == before


def test_ims_downloads_are_spreadsheet_safe(businesses):
    store_portal_records(PORTAL_HOSTILE)
    frame = ims_view.export_frame([G1], ImsFilter(supplier=SUPPLIERS[1]), None)
    assert frame.height == len(PORTAL_HOSTILE)
    rows = list(csv.DictReader(io.StringIO(to_csv_bytes(frame).decode("utf-8-sig"))))
    numbers = sorted(r["doc_no"] for r in rows)
    assert numbers == sorted(["'; DROP TABLE ims_records; --", "'=1+2", "-99", "'@A1", "O'BRIEN/1;2"])
    assert all(not r["txval"].startswith("'") for r in rows)  # numbers stay numbers
    texts = no_formula_cells(to_excel_bytes(frame))
    assert "'=1+2" in texts and "'@A1" in texts


# ---------------------------------------------------------------- upload caps

def test_upload_over_the_size_cap_is_refused_with_a_clear_message(businesses, monkeypatch):
    monkeypatch.setattr(purchase_read, "MAX_UPLOAD_BYTES", 2_000)
    big = hostile_register() + b"\n" * 3_000
    with pytest.raises(purchase_read.FileProblem, match=r"big\.csv.*(MB|KB|bytes)"):
        purchase.import_purchase_file(big, file_name="big.csv")
    assert table_counts()["purchase_batches"] == 0


def test_upload_over_the_row_cap_is_refused_with_a_clear_message(businesses, monkeypatch):
    monkeypatch.setattr(purchase_read, "MAX_ROWS", 5)
    with pytest.raises(purchase_read.FileProblem, match=r"many\.csv.*rows"):
        purchase.import_purchase_file(hostile_register(), file_name="many.csv")
    assert table_counts()["purchase_batches"] == 0
