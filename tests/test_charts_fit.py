"""Charts fit at 1440 px (issue 24, item 6): the title's lines sit above the plot (anchored at
the top, the margin as tall as they are), the legend lies in rows under the plot (no entry
behind a scroll), businesses on the Dashboard's axis are short (state over GSTIN, level), and
"Trend by period" runs in date order. Streamlit's AppTest against a real DuckDB file."""
from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from core.ims.sync import run_reconciliation
from tests.fixtures import BUSINESSES, ROOT, charts_of_every_tab, seed_demo


def charts_of(page: str, every_tab: bool = False) -> dict[str, dict]:
    """The page's charts by title (`every_tab`: those drawn in each of its chart tabs)."""
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = charts_of_every_tab(at, page) if every_tab else at.get("plotly_chart")
    specs = [{**json.loads(c.proto.spec), "config": json.loads(c.proto.config)} for c in shown]
    return {s["layout"]["title"]["text"].split("<br>")[0]: s for s in specs}


def test_titles_above_legends_below_businesses_short(db_file):
    seed_demo()
    assert len(charts_of("dashboard")) == 1           # only the open tab's chart is sent
    charts = charts_of("dashboard", every_tab=True)
    assert len(charts) == 2
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
    drawn = charts_of("reconciliation", every_tab=True)
    assert len(drawn) == 5 and all(c["config"]["modeBarButtons"] == [["toImage"]]
                                   for c in drawn.values())
    trend = drawn["Trend by period"]
    order = trend["layout"]["xaxis"]["categoryarray"]
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    assert order == sorted(order, key=lambda p: (p[-4:], months.index(p[:3]))) and order
