"""Actions from a sheet on a real store: a verdict per line (found, or refused: a field that
cannot be read, not found, ambiguous, no permission, not allowed for the record, the same
record twice), all valid lines saved in one transaction or none, the refused lines'
download, proposals when approval is on, and hostile workbooks refused by the reader."""
from __future__ import annotations

import io

import openpyxl
import pytest
import xlsxwriter

from core.ims.actions import ActionError
from core.ims.approval import set_approval
from core.ims.history import record_history
from core.ims.sheet_actions import preview_sheet, refused_file, refused_lines, save_sheet
from core.purchase import FileProblem
from tests.fixtures import BUSINESSES, rows
from tests.test_hostile_uploads import long_header_csv, zip_bomb_xlsx

A, B = BUSINESSES[0][0], BUSINESSES[1][0]
ASHA = "asha@firm.in"
HEAD = "Supplier GSTIN,Document type,Document number,Document date,Action,Remark to supplier," \
       "Internal note,ITC to be reduced,Business GSTIN"


def record(where: str, gstin: str = A) -> dict:
    cur = rows(f"SELECT record_id, stin, doc_type, doc_no, doc_date, rtnprd FROM ims_records "
               f"WHERE rtin = ? AND {where} ORDER BY record_id LIMIT 1", [gstin])[0]
    return dict(zip(("id", "stin", "type", "no", "date", "period"), cur))


def line(r: dict, action: str, remark: str = "", note: str = "", itc: str = "",
         business: str = "", date: bool = True) -> str:
    kind = {"INV": "Invoice", "CRN": "Credit note", "DBN": "Debit note", "BOE": "BOE"}[r["type"]]
    day = r["date"].strftime("%d-%m-%Y") if date else ""
    return f"{r['stin']},{kind},{r['no']},{day},{action},{remark},{note},{itc},{business}"


@pytest.fixture
def sheet(demo_store):
    """A sheet of ten lines: two valid, eight refused for eight different reasons."""
    free = "doc_type = 'INV' AND coalesce(portal_action, 'N') = 'N' AND ispendactblocked = 'N'"
    accept, pend = record(free), record(f"{free} AND record_id > (SELECT min(record_id) "
                                        f"FROM ims_records WHERE rtin = '{A}' AND {free})")
    blocked = record("ispendactblocked = 'Y' AND doc_type = 'INV'")
    credit = record("doc_type = 'CRN'")
    other = record("doc_type = 'INV'", B)
    twin = record("doc_type = 'DBN'")   # a second record with its keys, another period
    filed = record(f"doc_type = 'INV' AND record_id > {pend['id']} AND ispendactblocked = 'N'")
    rows("UPDATE ims_records SET left_ims_at = current_timestamp, filed_period = '102025' "
         "WHERE record_id = ?", [filed["id"]])
    rows("INSERT INTO ims_records (rtin, section, stin, doc_type, doc_no, doc_no_key, doc_date, "
         "fy, rtnprd, first_seen, last_seen) SELECT rtin, section, stin, doc_type, doc_no, "
         "doc_no_key, doc_date, fy, '112025', first_seen, last_seen FROM ims_records "
         "WHERE record_id = ?", [twin["id"]])
    lines = [HEAD,
             line(accept, "Accept", "ok as billed", "checked with stores"),     # 2 valid
             line({**accept, "no": "NO-SUCH-1"}, "Accept"),                        # 3 not found
             line(pend, "Maybe"),                                                  # 4 bad action
             line(blocked, "Pending"),                                             # 5 blocked
             line(credit, "Accept", itc="Partial"),                                # 6 CN rules
             line(other, "Accept", business=B),                                    # 7 permission
             line(twin, "Reject", date=False),                                     # 8 ambiguous
             line(pend, "Pending", note="ask again in March"),                     # 9 valid
             line(accept, "Reject"),                                               # 10 twice
             line(filed, "Reject")]                                                # 11 filed
    data = ("\n".join(lines) + "\n").encode()
    return {"data": data, "accept": accept, "pend": pend, "blocked": blocked}


def test_each_line_gets_a_verdict_in_words(sheet):
    preview = preview_sheet(sheet["data"], [A], ASHA, "decisions.csv")
    verdicts = dict(zip(preview.lines["line"], preview.lines["verdict"]))
    assert (preview.valid, preview.refused) == (2, 8)
    assert verdicts[2].startswith("Found: ") and verdicts[2].endswith(": accept")
    assert "not found" in verdicts[3]
    assert verdicts[4] == ("Refused: decisions.csv, line 4, field Action: 'Maybe' is not an "
                           "action: Accept, Reject, Pending or Reset")
    assert "not allowed for this record: the portal does not allow Pending" in verdicts[5]
    assert "not allowed for this record" in verdicts[6] and "remark" in verdicts[6]
    assert ("field Business GSTIN: no permission: you may not act for the business "
            f"{B}") in verdicts[7]
    assert "ambiguous: 2 records match" in verdicts[8]
    assert verdicts[9].endswith(": keep pending")
    assert "the same record as line 2" in verdicts[10]
    assert verdicts[11].startswith("Refused: decisions.csv, line 11: filed period: the GSTR-3B "
                                   "of Oct 2025 was filed")
    assert all(v.startswith(("Found: ", "Refused: decisions.csv, line ")) for v in verdicts.values())
    assert rows("SELECT count(*) FROM action_log") == [(0,)]    # a preview writes nothing


def test_valid_lines_are_saved_together_with_the_file_and_line_in_the_history(sheet):
    preview = preview_sheet(sheet["data"], [A], ASHA, "decisions.csv")
    result = save_sheet(preview, [A], ASHA)
    assert result.saved == 2
    saved = rows("SELECT record_id, user_action, user_supplier_remark, internal_note "
                 "FROM ims_records WHERE user_action IS NOT NULL ORDER BY record_id")
    assert saved == [(sheet["accept"]["id"], "A", "ok as billed", "checked with stores"),
                     (sheet["pend"]["id"], "P", None, "ask again in March")]
    history = record_history([A], sheet["accept"]["id"])
    assert history.select("What", "Details").rows()[-1] == ("Imported from a sheet",
                                                            "decisions.csv, line 2")


def test_a_line_the_save_refuses_leaves_nothing_half_saved(sheet):
    preview = preview_sheet(sheet["data"], [A], ASHA, "decisions.csv")
    # the portal blocks Pending on line 9's record after the preview: the whole save rolls back
    rows("UPDATE ims_records SET ispendactblocked = 'Y' WHERE record_id = ?",
         [sheet["pend"]["id"]])
    with pytest.raises(ActionError, match="Nothing saved: Not saved: .*does not allow Pending"):
        save_sheet(preview, [A], ASHA)
    assert rows("SELECT count(*) FROM ims_records WHERE user_action IS NOT NULL") == [(0,)]
    assert rows("SELECT count(*) FROM action_log") == [(0,)]


def test_the_refused_lines_download_has_the_lines_as_written_and_the_reason(sheet):
    preview = preview_sheet(sheet["data"], [A], ASHA, "decisions.csv")
    table = refused_lines(preview)
    assert table["Line"].to_list() == [3, 4, 5, 6, 7, 8, 10, 11]
    assert table.columns[:3] == ["Line", "Reason", "Supplier GSTIN"]
    assert table.filter(table["Line"] == 4)["Action"].to_list() == ["Maybe"]
    text = refused_file(preview).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Line,Reason,Supplier GSTIN,Document type")
    assert "is not an action: Accept, Reject, Pending or Reset" in text
    sheet_rows = list(openpyxl.load_workbook(io.BytesIO(refused_file(preview, excel=True)))
                      .active.iter_rows(values_only=True))
    assert len(sheet_rows) == 9 and sheet_rows[1][0] == 3 and "not found" in sheet_rows[1][1]


def test_with_approval_on_the_lines_become_proposals(sheet):
    set_approval(A, True, "cli")
    result = save_sheet(preview_sheet(sheet["data"], [A], ASHA, "decisions.csv"), [A], ASHA)
    assert result.proposed == 2
    assert rows("SELECT approval_state, count(*) FROM ims_records WHERE user_action IS NOT NULL "
                "GROUP BY approval_state") == [("proposed", 2)]


def workbook(cells: list[list]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, values in enumerate(cells):
        for c, value in enumerate(values):
            if isinstance(value, str) and value.startswith("="):
                sheet.write_formula(r, c, value, None, "")
            else:
                sheet.write(r, c, value)
    book.close()
    return out.getvalue()


def test_an_excel_sheet_is_read_and_a_formula_without_a_value_refused(sheet):
    r = sheet["accept"]
    head = ["Title row: October decisions"], HEAD.split(",")
    good = workbook([*head, [r["stin"], "Invoice", r["no"], "", "Accept", "", "", "", ""]])
    preview = preview_sheet(good, [A], ASHA, "october.xlsx")
    assert preview.valid == 1 and preview.lines["line"].to_list() == [3]
    bad = workbook([*head, [r["stin"], "Invoice", r["no"], "", "=HYPERLINK(\"x\")", "", "",
                            "", ""]])
    with pytest.raises(FileProblem, match="october.xlsx, field E3: cell E3 holds a formula"):
        preview_sheet(bad, [A], ASHA, "october.xlsx")
    with pytest.raises(FileProblem, match="no column for Action"):
        preview_sheet(b"Supplier GSTIN,Document type,Document number\nX,Invoice,1\n", [A],
                      ASHA, "short.csv")


@pytest.mark.parametrize("name, build", [
    ("bomb.xlsx", lambda: zip_bomb_xlsx(unpacked=64 * 1024 * 1024)),
    ("header.csv", lambda: long_header_csv(256 * 1024))])
def test_hostile_sheets_are_refused_by_the_purchase_readers_caps(name, build):
    with pytest.raises(FileProblem, match=name):
        preview_sheet(build(), [A], ASHA, name)
