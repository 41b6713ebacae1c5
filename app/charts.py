"""Charts drawn the same way on every page: one colour and one legend order per match status
and per portal action (core/labels.py), counts and rupees in Indian grouping on the axis and on
hover (core/figures.py), and a click on a bar that opens the documents behind it.

`drawn(where, fig, key)` shows a figure and returns the bar clicked since the last run (None
when nothing new was clicked), so a page can drill down once per click and the selection that
Streamlit keeps does not pull the user back on every later rerun.
"""
from __future__ import annotations

import math

# Imported here, whole, before any chart is built: plotly looks pandas up in sys.modules
# without importing it, so a session drawing a chart while another session's first table
# was still importing pandas got a half-made module ("partially initialized module 'pandas'
# has no attribute 'Series'": an incident on a fresh server's Reconciliation page, found by
# bench/sessions.py). An import statement waits until the module is whole.
import pandas  # noqa: F401
import streamlit as st

from core import labels
from core.figures import indian
from core.gstin import state_name

STATUS_CHART = {"color_discrete_map": labels.STATUS_COLOURS,
                "category_orders": {"Status": list(labels.STATUS_ORDER)}}
ACTION_ORDER = ("No action", "Accepted", "Rejected", "Pending")
ACTION_COLOURS = {"No action": "#bbbbbb", "Accepted": "#1a7f37", "Rejected": "#d1242f",
                  "Pending": "#f2c14e"}
ACTION_CHART = {"color_discrete_map": ACTION_COLOURS,
                "category_orders": {"Portal action": list(ACTION_ORDER)}}
CLICK_HINT = "Click a bar to open the documents behind it."
# Plotly's toolbar keeps one button, "Download plot as png" (auditors file the charts); zoom,
# pan and the rest are left out: the full toolbar cost each chart about 0.07 s of the
# browser's CPU on every page view (docs/reliability.md), and a bar is opened by clicking it.
# `config=CONFIG` on every plotly_chart.
CONFIG = {"displaylogo": False, "modeBarButtons": [["toImage"]]}
_HANDLED = "_chart_clicks"


def nice_ticks(top: float, most: int = 6, whole: bool = False) -> list[float]:
    """Round tick values from 0 to at least `top` (steps of 1, 2 or 5 x 10^k; `whole`: at
    least 1, for counts)."""
    if not top or top <= 0:
        return [0.0]
    raw = top / (most - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(step, 1) if whole else step
    return [round(i * step, 6) for i in range(math.ceil(top / step) + 1)]


def indian_axis(fig, values, axis: str = "y", decimals: int = 0):
    """The axis ticks written in Indian grouping (1,00,000 rather than 100k)."""
    top = max((abs(float(v)) for v in values if v is not None), default=0.0)
    ticks = nice_ticks(top, whole=decimals == 0)
    places = decimals if any(t != int(t) for t in ticks) else 0
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    return update(tickmode="array", tickvals=ticks, ticktext=[indian(t, places) for t in ticks])


def hover(fig, what: str, value_column: int = 0):
    """Hover text '<category>: <legend> — <figure>' with the figure from the trace's custom data
    (a column written with core.figures.indian)."""
    return fig.update_traces(hovertemplate=f"%{{x}}<br>%{{fullData.name}}<br>{what}: "
                                           f"%{{customdata[{value_column}]}}<extra></extra>")


def drawn(where, fig, key: str) -> dict | None:
    """Show `fig` in `where` (st or a column); the point clicked since the last run, if any:
    {'x', 'y', 'customdata', 'legendgroup', ...} as Plotly reports it. A figure already
    `fitted` (one shared by sessions, app/ui.py `built_once`) is shown as it is, unchanged."""
    shown = fig if getattr(fig, "_fitted", False) else fitted(fig)
    event = where.plotly_chart(shown, key=key, on_select="rerun", selection_mode="points",
                               config=CONFIG)
    points = list((event or {}).get("selection", {}).get("points", []) or [])
    seen = st.session_state.setdefault(_HANDLED, {})
    mark = repr(points)
    if not points or seen.get(key) == mark:
        seen[key] = mark
        return None
    seen[key] = mark
    return points[0]


def titled(what: str, business: str | list[str], when: str) -> str:
    """A chart title that says whose figures and from when, each on its own line: 'ITC by
    match status', 'Acme Fabrics Pvt Ltd · 27AAPFU0939F1ZV', 'run 12 of 12 Nov 2025, 11:30
    IST' (several businesses: one line each, up to three, else how many)."""
    whose = [business] if isinstance(business, str) else list(business)
    if len(whose) > 3:
        whose = [f"{len(whose)} businesses (named on the axis)"]
    return "<br>".join([what, *(f"<sup>{line}</sup>" for line in [*whose, when])])


def fitted(fig):
    """Room above the plot for every line of the title (anchored at the top, never over the
    bars) and the legend in rows under the plot (every entry shown, none behind a scroll)."""
    lines = (fig.layout.title.text or "").count("<br>") + 1
    top = 34 + 20 * lines
    fig._fitted = True
    return fig.update_layout(
        title={"y": 1, "yref": "container", "yanchor": "top", "pad": {"t": 12}},
        margin={"t": top}, height=max(fig.layout.height or 0, 330 + top),
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.18, "yanchor": "top",
                "title": {"side": "top"}})


def business_axis_label(gstin: str) -> str:
    """A business on a chart's axis, short and unambiguous: its state over its GSTIN (the
    full name is in the title and on hover)."""
    return f"{state_name(gstin[:2]) or 'GSTIN'}<br>{gstin}"
