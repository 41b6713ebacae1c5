"""Charts fit at 1440 px (issue 24, item 6): the title's lines sit above the plot (anchored at
the top, the margin as tall as they are), the legend lies in rows under the plot (no entry
behind a scroll), businesses on the Dashboard's axis are short (state over GSTIN, level), and
"Trend by period" runs in date order. Streamlit's AppTest against a real DuckDB file."""
from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from core.ims.sync import run_reconciliation
from tests.fixtures import BUSINESSES, ROOT, seed_demo


def charts_of(page: str, tabs: tuple[str, ...] = ()) -> dict[str, dict]:
    """The page's charts by title (with `tabs`: those drawn in each tab of the charts)."""
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    at.switch_page(f"pages/{page}.py")
    specs = []
    for tab in tabs or (None,):
        if tab:
            at.session_state[TAB_KEY] = tab
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        specs += [{**json.loads(c.proto.spec), "config": json.loads(c.proto.config)}
                  for c in at.get("plotly_chart")]
    return {s["layout"]["title"]["text"].split("<br>")[0]: s for s in specs}


TAB_KEY = "reco_chart_tab"
RECO_TABS = ("By status", "Top suppliers at risk", "Reasons", "Trend by period")


def test_titles_above_legends_below_businesses_short(db_file):
    seed_demo()
    charts = charts_of("dashboard")
    assert charts
    for title, spec in charts.items():
        layout = spec["layout"]
        lines = layout["title"]["text"].count("<br>") + 1
        assert layout["title"]["yanchor"] == "top" and layout["margin"]["t"] >= 30 + 20 * lines
        assert layout["legend"]["orientation"] == "h" and layout["legend"]["y"] < 0, title
        businesses = {x for trace in spec["data"] for x in trace.get("x") or []}
        assert businesses and all("<br>" in b and len(b) <= 40 for b in businesses), businesses
        assert layout["xaxis"]["tickangle"] == 0
        assert spec["config"] == {"displaylogo": False, "modeBarButtons": [["toImage"]]}


def test_trend_by_period_in_date_order(db_file):
    seed_demo()
    run_reconciliation(BUSINESSES[1][0], "ims_vs_pr", None, "test")
    assert len(charts_of("reconciliation")) == 2      # only the open tab's charts are sent
    drawn = charts_of("reconciliation", RECO_TABS)
    assert len(drawn) == 5 and all(c["config"]["modeBarButtons"] == [["toImage"]]
                                   for c in drawn.values())
    trend = drawn["Trend by period"]
    order = trend["layout"]["xaxis"]["categoryarray"]
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    assert order == sorted(order, key=lambda p: (p[-4:], months.index(p[:3]))) and order
