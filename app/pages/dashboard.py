"""Dashboard: deadlines, counts by portal and recommended action, ITC by match status (the two
charts in tabs: only the open one is drawn), job health."""
from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from app import auth_ui, backup_ui, charts, ui, url_state
from app.deadlines_ui import show_deadline_panel
from app.fetch_now import fetch_now_panel
from app.gstr2b_panel import show_gstr2b_panel
from app.incidents import error_boundary
from core import labels
from core.clock import utc_now
from core.figures import count_words, rupees, scaled
from core.ims import dashboard as dash
from core.portal import status as gsp_status
from core.schedule import business_job_status

PORTAL_WORDS = {"no_action": "No action", "accepted": "Accepted", "rejected": "Rejected",
                "pending": "Pending"}
COUNT_HEADINGS = {"business": "Business", "total": "Records", **PORTAL_WORDS,
                  "recommend_accept": "Recommended: accept",
                  "recommend_reject": "Recommended: reject",
                  "recommend_pending": "Recommended: pending",
                  "not_synced": "Not reconciled yet",
                  "matched": "Matched to the books (also by hand)"}
IMS_PAGE = "pages/ims_invoices.py"
REFRESH_S = dash.job_health_refresh_seconds()
CHART_TABS = ("By portal action", "ITC by match status")

st.title("Dashboard")
gstins = ui.require_businesses()
for warning in gsp_status.session_warnings(gstins):   # GSP sessions: OTP needed, access ending
    st.warning(warning, icon=":material/key:")
counts = ui.cached(dash.action_counts, gstins)

show_deadline_panel(gstins)   # the month's calendar per business (app/deadlines_ui.py)
show_gstr2b_panel(gstins)     # GSTR-2B needs regeneration, stored 2Bs (app/gstr2b_panel.py)
fetch_now_panel(gstins, ui.current_actor())   # IMS, GSTR-2A, GSTR-2B now (app/fetch_now.py)


def count_table(counts: pl.DataFrame) -> list[dict]:
    """Records by action per business, every count in Indian grouping (a table that wraps:
    nothing clipped at any width)."""
    return [{COUNT_HEADINGS["business"]: ui.label_business(r["gstin"]),
             **{COUNT_HEADINGS[c]: count_words(r[c]) for c in COUNT_HEADINGS if c != "business"}}
            for r in counts.to_dicts()]


def portal_figure(counts: pl.DataFrame, subtitle: tuple[list[str], str]):
    """Records by the portal's action per business, finished (shared: never changed after)."""
    frame = counts.with_columns(
        labels.each(counts["gstin"], charts.business_axis_label).alias("Business"))
    portal = frame.unpivot(index=["Business", "gstin"], on=list(PORTAL_WORDS),
                           variable_name="bucket", value_name="records")
    portal = portal.with_columns(
        pl.col("bucket").replace_strict(PORTAL_WORDS).alias("Portal action"),
        labels.each(portal["records"], count_words).alias("shown"))
    fig = px.bar(portal, x="Business", y="records", color="Portal action",
                 custom_data=["shown", "gstin", "bucket"], labels={"records": "records"},
                 title=charts.titled("IMS records by portal action", *subtitle),
                 **charts.ACTION_CHART)
    charts.indian_axis(charts.hover(fig, "records"),
                       frame.select(list(PORTAL_WORDS)).sum_horizontal().to_list())
    return charts.fitted(fig.update_xaxes(tickangle=0, title=None,
                                          categoryorder="category ascending"))


def itc_figure(gstins: list[str], subtitle: tuple[list[str], str]):
    """ITC (tax) by match status per business, in the status colours, finished (shared)."""
    itc = ui.cached(dash.itc_by_status, gstins)
    frame = itc.with_columns(
        labels.each(itc["match_status"], labels.status_words).alias("Status"),
        labels.each(itc["gstin"], charts.business_axis_label).alias("Business"),
        labels.each(itc["itc"], rupees).alias("shown"))
    frame, unit = scaled(frame, "itc")
    fig = px.bar(frame, x="Business", y="itc", color="Status",
                 custom_data=["shown", "gstin", "match_status"],
                 title=charts.titled(f"ITC (tax, {unit}) by match status", *subtitle),
                 labels={"itc": f"ITC ({unit})"}, **charts.STATUS_CHART)
    totals = frame.group_by("Business").agg(pl.col("itc").sum())["itc"].to_list()
    charts.indian_axis(charts.hover(fig, "ITC"), totals, decimals=2)
    return charts.fitted(fig.update_xaxes(tickangle=0, title=None,
                                          categoryorder="category ascending"))


def dashboard_figures(gstins: list[str], subtitle: tuple[list[str], str]) -> tuple:
    """Both charts, built once per data version for every session (ui.built_once)."""
    return (portal_figure(ui.cached(dash.action_counts, gstins), subtitle),
            itc_figure(gstins, subtitle))


def portal_chart(where, fig) -> None:
    """Records by the portal's action per business; a click opens those records."""
    point = charts.drawn(where, fig, "portal_actions")
    if point:
        gstin, bucket = point["customdata"][1], point["customdata"][2]
        url_state.open_page(IMS_PAGE, {"business": gstin, "bucket": bucket})


def itc_chart(where, fig) -> None:
    """ITC by match status; a click opens the IMS records of that business and status."""
    point = charts.drawn(where, fig, "itc_status")
    if point:
        gstin, status = point["customdata"][1], point["customdata"][2]
        url_state.open_page(IMS_PAGE, {"business": gstin, "status": status})


if counts.is_empty():
    ui.no_data_yet("IMS records")
else:
    st.subheader("Records by action")
    st.table(count_table(counts), hide_index=True)
    subtitle = ([ui.label_business(g) for g in counts["gstin"].to_list()],
                f"records as last fetched {ui.when(ui.cached(dash.records_as_of, gstins))}")
    portal_fig, itc_fig = ui.built_once(dashboard_figures, gstins, subtitle)
    # one chart at a time: only the open tab's chart goes to the browser (plotly draws every
    # chart it is sent, about 0.1 s of the browser's CPU each on every view)
    tab = dict(zip(CHART_TABS, st.tabs(CHART_TABS, key="dashboard_chart_tab",
                                       on_change="rerun"), strict=True))
    if tab["By portal action"].open:
        portal_chart(tab["By portal action"], portal_fig)
    if tab["ITC by match status"].open:
        itc_chart(tab["ITC by match status"], itc_fig)
    st.caption(charts.CLICK_HINT)


START = "Start it with `python worker.py` (it fetches daily at each business's fetch time)"


def worker_state(state: dict) -> None:
    """Whether the worker runs (it holds worker.lock beside the store), then how old the last
    job is (stale: a running worker with no job for 26 hours has nothing enabled or is stuck)."""
    last, running = state["last"], state["running"]
    since = f"; the last job ran {ui.when(last)}" if last else "; no job has run yet"
    if running is False:
        st.warning(f"The worker is not running{since}. {START}, or run `python worker.py fetch` "
                   "once now.")
    elif running is None and (last is None or state["stale"]):
        st.warning(f"Cannot tell whether the worker runs (its lock file is unreadable){since}. "
                   f"{START}.")
    elif running and state["stale"]:
        st.warning(f"The worker is running but no job has run since {ui.when(last)}: check that "
                   "the businesses are enabled under Settings and look at the worker's log.")
    elif running:
        st.caption(":material/check_circle: The worker is running.")


def stopped_runs() -> None:
    """Runs of the last 7 days that stopped before they finished, and why."""
    stopped = dash.stopped_runs(gstins)
    if stopped.is_empty():
        return
    st.warning(f"{stopped.height} job run(s) in the last 7 days stopped before they finished; "
               "the next run does their work again.")
    st.table([{"Business": ui.label_business(r["gstin"]) if r["gstin"] else "",
               "Job": dash.job_words(r["job"]), "Started by": r["triggered_by"],
               "Started": ui.when(r["started_at"]), "Stopped": ui.when(r["finished_at"]),
               "Why": r["error"]} for r in stopped.to_dicts()], hide_index=True)


@st.fragment(run_every=REFRESH_S)
def job_health() -> None:
    """Last and next fetch and sync per business, refreshed live (while the session holds:
    a logged-out, timed-out or disabled user's refresh goes back to the login)."""
    auth_ui.require_live_session()
    with error_boundary():
        show_job_health()


def show_job_health() -> None:
    st.subheader("Job health")
    state = dash.worker_state(gstins)
    worker_state(state)
    if state["last"] is None:
        return
    failures = dict(dash.job_health(gstins).group_by("gstin").agg(
        pl.col("failures_7d").sum()).iter_rows())
    sessions = {r["gstin"]: r["sentence"] for r in gsp_status.session_rows(gstins)}
    rows = [{"Business": ui.label_business(r["gstin"]),
             "Last fetch": dash.run_words(ui.when(r["last_fetch"]), r["last_fetch_ok"]),
             "Next fetch": ui.when(r["next_fetch"]) or "not scheduled (auto-generate is off)",
             "Last sync": dash.run_words(ui.when(r["last_sync"]), r["last_sync_ok"]),
             "Sync done by": ui.when(r["sync_due_by"]) or "not scheduled",
             "GSP session": sessions.get(r["gstin"], ""),
             "Failures (7 days)": count_words(failures.get(r["gstin"], 0)),
             "Last error": dash.error_words(r["last_error"], ui.when(r["last_error_at"])),
             "Last GSTR-2B": r["last_gstr2b"] or "not yet"}
            for r in business_job_status(gstins=gstins)]
    st.table(rows, hide_index=True)
    stopped_runs()
    st.caption(f"Refreshed {ui.when(utc_now())}; updates every {REFRESH_S} s.")


job_health()
backup_ui.backup_state()
