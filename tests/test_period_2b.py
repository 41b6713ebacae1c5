"""A record's 2B period, not its return period (docs/month-close.md, "A record's 2B period"):
used by "2B needs regeneration", the filed-period refusal of uploads, the credit notes'
pending limits (GSTN's example: 20 December, not 20 November) and what leaves IMS after a
filing (no action = deemed accepted, never "removed"); and the calendar fixes of issue 23
(Ladakh, section 16(4) with the annual return and the last real chance). Each on a real
DuckDB file."""
from __future__ import annotations

import datetime as dt

import pytest

from core.calendar.deadlines import Calendar, section_16_4_limit
from core.calendar.panel import deadline_panel
from core.gstr2b.store import late_actions, store_2b
from core.portal.filing_status import filed_refusals, keep_filed
from core.store import connect, transaction
from tests.fixtures import COMPANY, rows

D = dt.date
SAHYADRI = "27AABCS5678L1ZQ"
WATCHED = dt.datetime(2025, 10, 1, 6, 0)     # the business's first fetch


def add_record(doc_no: str, rtnprd: str, action: str = "N", section: str = "b2b",
               first_seen: dt.datetime = WATCHED, doc_type: str | None = None,
               srcform: str = "R1") -> int:
    doc_type = doc_type or {"b2bcn": "CRN", "b2bdn": "DBN"}.get(section, "INV")
    with connect() as con, transaction(con):
        return con.execute(
            "INSERT INTO ims_records (rtin, section, stin, doc_type, doc_no, doc_no_key, "
            "doc_date, fy, rtnprd, txval, igst, cgst, sgst, cess, srcform, srcfilstatus, "
            "portal_action, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, '2025-26', ?, "
            "1000, 0, 90, 90, 0, ?, 'Filed', ?, ?, ?) RETURNING record_id",
            [COMPANY, section, SAHYADRI, doc_type, doc_no, doc_no.upper(),
             D(int(rtnprd[2:]), int(rtnprd[:2]), 5), rtnprd, srcform, action, first_seen,
             first_seen]).fetchone()[0]


def stored_2b(period: str, docdata: list[str] = (), rejected: list[str] = ()) -> None:
    def group(numbers):
        return [{"ctin": SAHYADRI, "trdnm": "Sahyadri Steel", "inv": [
            {"inum": n, "dt": "05-09-2025", "val": 1180, "pos": "27", "rev": "N", "typ": "R",
             "itcavl": "Y", "txval": 1000, "igst": 0, "cgst": 90, "sgst": 90, "cess": 0}
            for n in numbers]}] if numbers else []
    from core.portal.payload.gstr2b import flatten_2b
    payload = {"data": {"gstin": COMPANY, "rtnprd": period, "gendt": "14-11-2025",
                        "docdata": {"b2b": group(docdata)},
                        "docRejdata": {"b2b": group(rejected)}}}
    store_2b(COMPANY, period, *flatten_2b(payload))


def file_3b(period: str, day: dt.date) -> None:
    with connect() as con, transaction(con):
        con.execute("INSERT INTO return_filings VALUES (?, ?, 'GSTR3B', 'Filed', ?, 'AA1', "
                    "'ONLINE', ?)", [COMPANY, period, day, dt.datetime(2025, 12, 1)])


# ---------------------------------------------------------------- regeneration


def test_regeneration_follows_the_2b_a_record_is_in(store):
    # OCT-1 is of return period October but its supplier filed late: it is in the November
    # 2B, accepted. Counting it against the October 2B (absent there) was a false alarm no
    # regeneration clears.
    add_record("OCT-1", "102025", "A")
    # SEP-9 of September was filed on 14 October: it is in the October 2B; it has been
    # rejected since. Looking for it in a September 2B missed a real regeneration need.
    add_record("SEP-9", "092025", "R")
    add_record("OCT-2", "102025", "A")       # in the October 2B, agrees
    add_record("OCT-3", "102025", "R")       # filed late too: rejected, in November's docRejdata
    stored_2b("102025", docdata=["SEP-9", "OCT-2"])
    stored_2b("112025", docdata=["OCT-1"], rejected=["OCT-3"])
    late = late_actions([COMPANY])
    assert late[(COMPANY, "102025")] == 1      # SEP-9 only (return periods gave OCT-1, OCT-3)
    assert late[(COMPANY, "112025")] == 0


def test_a_record_in_two_2bs_is_held_as_the_latest_holds_it(store):
    # how a 2B treats a record is read in the grouping that finds its 2B period: the latest
    # stored 2B holding it, rejected when any of its listings there is in docRejdata
    add_record("TWO-1", "102025", "A")      # October accepted, November rejected: late
    add_record("TWO-2", "102025", "R")      # October rejected, November accepted: late
    add_record("BOTH-1", "112025", "R")     # in both lists of November: rejected, agrees
    add_record("BOTH-2", "112025", "A")     # the same, accepted now: late
    stored_2b("102025", docdata=["TWO-1"], rejected=["TWO-2"])
    stored_2b("112025", docdata=["TWO-2", "BOTH-1", "BOTH-2"],
              rejected=["TWO-1", "BOTH-1", "BOTH-2"])
    assert late_actions([COMPANY]) == {(COMPANY, "102025"): 0, (COMPANY, "112025"): 3}


def test_a_pending_record_accepted_after_its_period_is_filed_lands_in_the_open_2b(store):
    add_record("SEP-5", "092025", "A")    # kept pending through September, accepted now
    file_3b("092025", D(2025, 10, 20))
    stored_2b("102025", docdata=[])       # the October 2B does not have it yet
    with connect() as con, transaction(con):
        con.execute("UPDATE ims_records SET portal_action = 'P' WHERE doc_no = 'SEP-5'")
    assert late_actions([COMPANY])[(COMPANY, "102025")] == 0      # pending: absent is right
    with connect() as con, transaction(con):
        con.execute("UPDATE ims_records SET portal_action = 'A' WHERE doc_no = 'SEP-5'")
    # accepted now, still in IMS after September's filing (it was pending then): it lands in
    # the open 2B, October's, which does not have it yet -> regenerate October. Looking for
    # it in September's (filed) missed this.
    assert late_actions([COMPANY])[(COMPANY, "102025")] == 1


# ---------------------------------------------------------------- pending limits


def test_credit_note_pending_limit_counts_from_its_2b_period(store):
    """GSTN's example: a credit note of a September GSTR-1A filed on 14 October 2025 has 2B
    period October and may stay pending until 20 December 2025 (not 20 November)."""
    add_record("OLD-1", "092025", "A")                                   # watched since 1 Oct
    late = add_record("CN-1A", "092025", "P", section="b2bcn", srcform="R1A",
                      first_seen=dt.datetime(2025, 10, 14, 9, 0))
    early = add_record("CN-EARLY", "092025", "P", section="b2bcn",
                       first_seen=dt.datetime(2025, 10, 10, 9, 0))
    panel = deadline_panel([COMPANY], today=D(2025, 11, 15))[0]
    limits = {r["record_id"]: r["expires"] for r in panel["pending"]}
    assert limits[late] == D(2025, 12, 20)
    assert limits[early] == D(2025, 11, 20)       # before the cut-off: the September 2B


def test_invoice_pending_says_the_last_real_chance(store):
    add_record("INV-P", "102025", "P")
    panel = deadline_panel([COMPANY], today=D(2025, 11, 15))[0]
    (row,) = [r for r in panel["pending"] if r["kind"] == "invoice"]
    assert row["expires"] == D(2026, 11, 30)
    assert row["then"].startswith("accept before filing the GSTR-3B of Oct 2026 (due "
                                  "20 Nov 2026; section 16(4) limit 30 Nov 2026, or the "
                                  "annual return if filed earlier)")


# ---------------------------------------------------------------- filing and uploads


def test_upload_for_a_record_of_an_unfiled_2b_period_is_not_refused(store):
    """OCT-7 (return period October) reached the November 2B: the October GSTR-3B being
    filed does not take it out of IMS, and an upload for it is not refused."""
    moved = add_record("OCT-7", "102025", "A")
    stays = add_record("OCT-8", "102025", "A")
    stored_2b("112025", docdata=["OCT-7"])
    stored_2b("102025", docdata=["OCT-8"])
    file_3b("102025", D(2025, 11, 20))
    with connect(read_only=True) as con:
        refused = dict(filed_refusals(con, "FROM ims_records r WHERE r.rtin = ?", [COMPANY],
                                      []))
    assert moved not in refused
    assert refused[stays].startswith("Not sent: the GSTR-3B of Oct 2025 was filed on "
                                     "20 Nov 2025")


def test_no_action_records_leave_with_the_filed_return_deemed_accepted(store):
    silent = add_record("OCT-N", "102025", "N")
    pending = add_record("OCT-P", "102025", "P")
    file_3b("102025", D(2025, 11, 20))
    with connect() as con, transaction(con):
        con.execute("CREATE OR REPLACE TEMP TABLE fetch_gone AS SELECT record_id FROM "
                    "ims_records")
        assert keep_filed(con, COMPANY, dt.datetime(2025, 11, 21), "worker") == 1
    assert rows("SELECT record_id, removed_at IS NULL, left_ims_at IS NOT NULL, filed_period "
                "FROM ims_records WHERE left_ims_at IS NOT NULL") == [(silent, True, True,
                                                                        "102025")]
    (note,) = rows("SELECT note FROM action_log WHERE kind = 'filed'")[0]
    assert note.startswith("deemed accepted (no action), left IMS with the filed return")
    assert rows("SELECT left_ims_at FROM ims_records WHERE record_id = ?", [pending]) == \
        [(None,)]


# ---------------------------------------------------------------- the calendar


def test_ladakh_files_quarterly_on_the_24th():
    assert Calendar("quarterly", "38").gstr3b_due("122025").day == D(2026, 1, 24)


@pytest.mark.parametrize(("annual", "limit"), [(None, D(2026, 11, 30)),
                                               (D(2026, 9, 30), D(2026, 9, 30)),
                                               (D(2026, 12, 15), D(2026, 11, 30))])
def test_section_16_4_or_the_annual_return_if_earlier(annual, limit):
    assert section_16_4_limit("2025-26", annual) == limit


def test_last_real_chance_is_the_last_gstr3b_due_by_the_limit():
    monthly = Calendar("monthly", "27").last_chance(D(2026, 11, 30))
    assert (monthly.period, monthly.day) == ("102026", D(2026, 11, 20))
    quarterly = Calendar("quarterly", "27").last_chance(D(2026, 11, 30))
    assert (quarterly.period, quarterly.day) == ("092026", D(2026, 10, 22))
    early = Calendar("monthly", "27").last_chance(D(2026, 9, 30))     # annual return filed
    assert early.period == "082026"
