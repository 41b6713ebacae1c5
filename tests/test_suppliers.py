"""The supplier master on a real DuckDB store (docs/suppliers.md): an import is all or nothing
and a bad line is named by file, line and field; names are filled from the books without
overwriting typed ones; a case moves open -> sent -> dropped only with a reason, every write in
the action log; the statement's rows are the supplier's worklist rows."""
from __future__ import annotations

import datetime as dt
import io

import polars as pl
import pytest

from core import suppliers
from core.business import supplier_labels
from core.gstin import make_gstin
from core.purchase import import_purchase_file
from core.store import connect
from tests.fixtures import STANDARD_SAMPLE, add_business

G = "27AAACW1234K1ZD"
S1, S2 = make_gstin("27", "AABCS5678L"), make_gstin("29", "AAFCK4321M")


@pytest.fixture
def company(db_file):
    add_business(G, "Western Agro")
    return suppliers.company_of(G)


def test_import_is_all_or_nothing_and_names_file_line_field(company):
    good = f"supplier_gstin,legal_name,emails\n{S1},Sahyadri Steels,a@x.example\n"
    assert suppliers.import_suppliers(G, "s.csv", good.encode(), "ana@example.com") == 1
    bad = (f"supplier_gstin,legal_name,emails\n{S2},Kaveri,k@x.example\n"
           f"{S1},Changed,not-an-address\n")
    with pytest.raises(suppliers.SupplierFileError,
                       match=r"s2\.csv, line 3, field emails: 'not-an-address'"):
        suppliers.import_suppliers(G, "s2.csv", bad.encode(), "ana@example.com")
    master = suppliers.suppliers_of(company)
    assert master["stin"].to_list() == [S1]                  # nothing of s2.csv written
    assert master["legal_name"].to_list() == ["Sahyadri Steels"]
    # names beside GSTINs everywhere (charts, grids, downloads) now come from the master
    assert supplier_labels(G, [S1]) == {S1: f"Sahyadri Steels · {S1}"}
    with pytest.raises(suppliers.SupplierFileError, match=r"line 2, field supplier_gstin"):
        suppliers.read_supplier_file("x.csv", b"supplier_gstin\n27AABCS5678L1ZZ\n")
    # the template reads back as a valid file, in Excel too
    assert len(suppliers.read_supplier_file("t.csv", suppliers.template_file("csv"))) == 1
    assert len(suppliers.read_supplier_file("t.xlsx", suppliers.template_file("xlsx"))) == 1
    back = pl.read_excel(io.BytesIO(suppliers.export_suppliers(company, "xlsx")))
    assert back["supplier_gstin"].to_list() == [S1]
    with connect() as con:
        logged = con.execute("SELECT count(*) FROM action_log WHERE kind = 'supplier'").fetchall()
    assert logged[0][0] == 1


def test_names_are_filled_from_the_books_and_a_typed_name_stays(company):
    suppliers.save_supplier(G, {"supplier_gstin": S1, "trade_name": "Sahyadri (typed)"}, "ana")
    assert import_purchase_file(STANDARD_SAMPLE, actor="test").ok
    written = suppliers.fill_names([G], "ana")
    master = {r["stin"]: r for r in suppliers.suppliers_of(company).iter_rows(named=True)}
    assert written == len(master) - 1 >= 2
    assert master[S1]["trade_name"] == "Sahyadri (typed)" and master[S1]["name_source"] == "typed"
    books = {r["stin"]: r["legal_name"] for r in master.values() if r["stin"] != S1}
    assert all(books.values()) and {r["name_source"] for r in master.values()} == \
        {"typed", "books or 2B"}
    assert suppliers.fill_names([G], "ana") == 0               # nothing left to fill


@pytest.mark.usefixtures("store_engine")     # the suppliers' SQL runs on PostgreSQL too
def test_rule_37a_itc_and_the_hold_payment_list(company):
    with connect() as con:
        con.execute("INSERT INTO supplier_returns VALUES (?, ?, '102025', 'Y', 'N', NULL, "
                    "TIMESTAMP '2025-11-12 06:00:00'), (?, ?, '102025', 'Y', 'Y', "
                    "DATE '2025-10-15', TIMESTAMP '2025-11-12 06:00:00')", [G, S1, G, S2])
        for stin, no, kind, igst, section in ((S1, "A-1", "INV", 1800, "b2b"),
                                              (S1, "A-2", "INV", 900, "b2b"),
                                              (S1, "C-1", "CRN", 180, "cdn"),
                                              (S1, "A-1", "INV", 2000, "b2ba"),
                                              (S2, "B-1", "INV", 500, "b2b")):
            con.execute("INSERT INTO gstr2a_docs (rtin, ret_period, section, stin, doc_type, "
                        "doc_no, doc_date, igst, fetched_at) VALUES (?, '102025', ?, ?, ?, ?, "
                        "DATE '2025-10-02', ?, TIMESTAMP '2025-11-12 06:00:00')",
                        [G, section, stin, kind, no, igst])
    [flag] = suppliers.rule_37a_flags([G], dt.date(2026, 10, 5)).iter_rows(named=True)
    assert (flag["stin"], flag["itc"]) == (S1, 1800 + 900 - 180)   # amendments left out
    assert flag["state"].startswith("reversal due by 30 Nov 2026")
    hold = suppliers.hold_payment_list([G], dt.date(2026, 10, 5), {S1: "Sahyadri"})
    assert hold.select("supplier_gstin", "itc_at_stake").rows() == [(S1, 2520.0), (S2, 500.0)]
    assert "registration cancelled on 15 Oct 2025" in hold["reason"][1]


@pytest.mark.usefixtures("store_engine")     # the cases' SQL runs on PostgreSQL too
def test_a_case_is_dropped_only_with_a_reason_and_logged(company):
    items = pl.DataFrame([{"rtin": G, "stin": S1, "kind": "missing_on_portal",
                           "ret_period": "102025", "record_id": None, "doc_type": "INV",
                           "doc_no": "A-1", "doc_no_key": "A-1", "fy": "2025-26",
                           "doc_date": None, "itc": 1800.0, "to_fix": "Report it",
                           "deadline": None, "deadline_words": "", "item_key": "k1"}])
    with pytest.raises(suppliers.CaseError, match="not among the businesses you may see"):
        suppliers.open_case(G, S1, items, "ana@example.com", allowed=["29AAACW1234K1Z9"])
    with pytest.raises(suppliers.CaseError, match="not among the businesses you may see"):
        suppliers.send_statements(G, "ana@example.com", allowed=["29AAACW1234K1Z9"])
    case_id = suppliers.open_case(G, S1, items, "ana@example.com")
    assert suppliers.open_case(G, S1, items, "ana@example.com") == case_id   # one open case
    suppliers.move_case(case_id, "sent", "ana@example.com")
    assert suppliers.reminders_due([G]).is_empty()
    suppliers.save_reminder_days(2, "boss@example.com")
    assert suppliers.reminder_days() == 2
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=3)
    assert suppliers.reminders_due([G], later)["case_id"].to_list() == [case_id]
    suppliers.save_reminder_days(0, "boss@example.com")          # the off switch
    assert suppliers.reminders_due([G], later).is_empty()
    with pytest.raises(suppliers.CaseError, match="0 for none"):
        suppliers.save_reminder_days(91, "boss@example.com")
    suppliers.save_reminder_days(2, "boss@example.com")
    with pytest.raises(suppliers.CaseError, match="why"):
        suppliers.move_case(case_id, "dropped", "ana@example.com")
    with pytest.raises(suppliers.CaseError, match="No case"):
        suppliers.move_case(case_id, "replied", "ana@example.com", allowed=["29AAACW1234K1Z9"])
    suppliers.move_case(case_id, "dropped", "ana@example.com", "supplier closed down")
    closed = suppliers.cases_of([G], ("dropped",)).row(0, named=True)
    assert closed["drop_reason"] == "supplier closed down" and closed["sent_at"] is not None
    frame = suppliers.statement_frame(items)
    assert frame.height == items.height and frame["Document number"].to_list() == ["A-1"]
    with connect() as con:
        kinds = [r[0] for r in con.execute("SELECT new_value FROM action_log WHERE "
                                           "kind = 'supplier_case' ORDER BY log_id").fetchall()]
    assert kinds == ["opened", "items", "sent", "setting", "setting", "setting", "dropped"]
