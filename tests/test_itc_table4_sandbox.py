"""Table 4 over HTTP (docs/month-close.md, "The ITC summary"): the sandbox's GSTR-2B serves
every section the rules read (ISD invoices and credit notes, ineligible ISD documents, `isda`,
the rule 37A reversals of `itcrev`), the app fetches and stores it as the worker does, and the
ITC summary places each where the law does; the 2B's own summary agrees with its documents."""
from __future__ import annotations

import polars as pl
import pytest
import requests

from core.gstr2b.job import fetch_gstr2b
from core.month_close.itc_store import itc_summary
from core.month_close.itc_summary import documents_behind, figure, portal_differences
from core.portal.client import GstnClient
from core.portal.gstr2b import fetch_2b
from core.portal.payload.gstr2b import read_2b_frame
from tests.fixtures import add_business, start_sandbox, stop_sandbox

G = "27AAACW1234K1ZD"
PERIOD = "092025"       # its 14th passed before the sandbox's start day: served at once


@pytest.fixture
def portal(db_file, monkeypatch):
    sb = start_sandbox(extra=["--gstin", G])
    monkeypatch.setenv("GSTN_API_URL", sb.url)
    add_business(G, "Western Agro")
    yield sb
    stop_sandbox(sb)


def test_sandbox_2b_sections_land_in_their_table4_rows(portal):
    data = fetch_2b(GstnClient(), G, PERIOD)
    head, docs = read_2b_frame({"data": data})
    assert head["unread"] == []
    assert {"isd", "isda", "itcrev_b2b", "b2b", "cdnr"} <= set(docs["section"])
    isd = docs.filter(pl.col("section").str.starts_with("isd") & ~pl.col("rejected_in_ims"))
    assert set(isd["doc_type"]) == {"ISD", "ISDC"} and "N" in set(isd["itcavl"])

    assert fetch_gstr2b(G, PERIOD, GstnClient())["documents"] == docs.height
    summary = itc_summary(G, PERIOD)
    cells = summary.figures
    for head_name in ("igst", "cgst"):
        eligible = isd.filter(pl.col("itcavl") != "N")
        net = eligible.select(pl.when(pl.col("doc_type") == "ISDC").then(-pl.col(head_name))
                              .otherwise(pl.col(head_name)).sum()).item()
        assert figure(cells, "4A4", head_name, "2b") == net
        assert figure(cells, "isd_ineligible", head_name, "2b") == \
            isd.filter(pl.col("itcavl") == "N")[head_name].sum()
    # rule 37A: the itcrev document is reversed in 4(B)(2) (besides what no books claim: the
    # store has no purchase register here, so the rest of 4(A) is reversed as unclaimed)
    behind = pl.concat([documents_behind(summary.entries, "4B2", h, "2b")
                        for h in ("igst", "cgst")])
    rule_37a = behind.filter(pl.col("section") == "itcrev_b2b")
    assert rule_37a.height == 1 and rule_37a["note"].item().startswith("reversal of rule 37A")
    # every section's documents add up to what the 2B's own summary states
    assert portal_differences(cells).is_empty(), portal_differences(cells)
    assert requests.get(f"{portal.url}/_control/state", timeout=10).ok
