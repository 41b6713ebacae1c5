"""The screens never mislead (core side): sorting in the store over every filtered record,
the in-flight bucket, the figures a confirmation states, download names, times in the
business time zone and the portal's answer in words."""
from __future__ import annotations

import datetime as dt

import pytest

from core.ims import view as ims_view
from core.ims.downloads import download_name, periods_part
from core.ims.view import SORTS, ImsFilter
from core.store.database import connect, transaction
from core.timefmt import shown_time
from core.upload_words import IN_FLIGHT, request_words, result_words, state_words
from tests.fixtures import BUSINESSES, rows, seed_demo

GSTINS = [g for g, _ in BUSINESSES]


@pytest.mark.parametrize("key", list(SORTS))
@pytest.mark.parametrize("descending", [False, True])
def test_sorting_pages_gives_the_order_of_the_full_download(db_file, key, descending):
    seed_demo()
    f = ImsFilter(sections=("b2b", "b2bcn", "b2bdn", "b2ba"))
    total = ims_view.bucket_counts(GSTINS, f)["all"]
    assert total > 3 * 7
    seen = []
    for page in range(1, ims_view.page_count(total, 7) + 1):
        seen += ims_view.records_page(GSTINS, f, None, page, 7, (key, descending))["record_id"].to_list()
    download = ims_view.export_frame(GSTINS, f, None, (key, descending))["record_id"].to_list()
    assert seen == download and len(seen) == total == len(set(seen))


def test_sort_by_taxable_covers_records_beyond_the_first_page(db_file):
    seed_demo()
    first = ims_view.records_page(GSTINS, ImsFilter(), None, 1, 10, ("txval", True))
    biggest = rows("SELECT max(txval) FROM ims_records")[0][0]
    assert first["txval"][0] == biggest
    assert first["txval"].to_list() == sorted(first["txval"].to_list(), reverse=True)
    with pytest.raises(ValueError, match="cannot sort by"):
        ims_view.records_page(GSTINS, ImsFilter(), None, 1, 10, ("txval; DROP", True))


def test_sent_records_leave_no_action_for_the_in_flight_bucket(db_file):
    seed_demo()
    f = ImsFilter(businesses=(GSTINS[0],))
    before = ims_view.bucket_counts(GSTINS, f)
    ids = [r for (r,) in rows("SELECT record_id FROM ims_records WHERE rtin = ? AND "
                              "coalesce(portal_action, 'N') = 'N' ORDER BY record_id LIMIT 3",
                              [GSTINS[0]])]
    with connect() as con, transaction(con):
        con.execute("UPDATE ims_records SET user_action = 'A', upload_state = 'sent' "
                    "WHERE list_contains(?::BIGINT[], record_id)", [ids])
    after = ims_view.bucket_counts(GSTINS, f)
    assert after["no_action"] == before["no_action"] - 3
    assert after["in_flight"] == 3 and after["to_upload"] == before["to_upload"]
    page = ims_view.records_page(GSTINS, f, "in_flight", 1, 50)
    assert sorted(page["record_id"].to_list()) == sorted(ids)
    assert state_words("sent") == IN_FLIGHT == "Sent to the portal, waiting for its answer"


def test_confirmation_figures_count_and_sum_the_scope(db_file):
    seed_demo()
    got = ims_view.scope_figures(GSTINS, ImsFilter(), "no_action")
    expected = rows("SELECT count(*), sum(txval), sum(igst + cgst + sgst + cess), sum(val), "
                    "count(DISTINCT rtin) FROM ims_records WHERE coalesce(portal_action, 'N') = 'N'")[0]
    assert (got["records"], got["taxable"], got["tax"], got["value"], got["businesses"]) == expected


def test_portal_answers_in_words_never_codes_or_none():
    assert [request_words(c) for c in ("P", "PE", "ER", "IP")] == \
        ["Processed", "Processed with errors", "Error", "In progress"]
    assert request_words(None) == result_words(None) == "Waiting for the portal's answer"
    assert result_words("ok") == "Saved on the portal"
    assert "None" not in state_words(None) and state_words(None) == ""


def test_times_are_shown_in_the_business_time_zone_labelled(monkeypatch):
    monkeypatch.setenv("IMS_TZ", "Asia/Kolkata")
    assert shown_time(dt.datetime(2026, 12, 1, 3, 45)) == "01 Dec 2026, 09:15 IST"
    assert shown_time(None, "never") == "never"
    monkeypatch.setenv("IMS_TZ", "Europe/London")
    assert shown_time(dt.datetime(2026, 7, 1, 3, 45)) == "01 Jul 2026, 04:45 BST"


def test_download_names_carry_business_period_scope_and_day():
    day = dt.date(2026, 12, 1)
    assert download_name("ims", ["27AAACW1234K1ZD"], ["102025"], "filtered", "csv", day) == \
        "ims_27AAACW1234K1ZD_Oct2025_filtered_2026-12-01.csv"
    assert download_name("ims", ["27AAACW1234K1ZD"], [], "all", "xlsx", day) == \
        "ims_27AAACW1234K1ZD_allperiods_all_2026-12-01.xlsx"
    assert download_name("ims", GSTINS, None, "no action", "csv", day) == \
        "ims_2-businesses_allperiods_no-action_2026-12-01.csv"
    assert periods_part(["112025", "092025", "102025"]) == "Sep2025-Nov2025"
    assert periods_part(["012026", "122025"]) == "Dec2025-Jan2026"
