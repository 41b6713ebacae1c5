"""Dashboard: deadlines, counts by portal and recommended action, ITC by match status, job
health."""
from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from app import auth_ui, backup_ui, ui
from app.deadlines_ui import show_deadline_panel
from app.gstr2b_panel import show_gstr2b_panel
from app.incidents import error_boundary
from core import dashboard as dash
from core import gsp_status, labels
from core.clock import utc_now
from core.figures import scaled
from core.job_status import business_job_status

PORTAL_WORDS = {"no_action": "No action", "accepted": "Accepted", "rejected": "Rejected",
                "pending": "Pending"}

st.title("Dashboard")
gstins = ui.require_businesses()
for warning in gsp_status.session_warnings(gstins):   # GSP sessions: OTP needed, access ending
    st.warning(warning, icon=":material/key:")
counts = ui.cached(dash.action_counts, gstins)

show_deadline_panel(gstins)   # the month's calendar per business (app/deadlines_ui.py)
show_gstr2b_panel(gstins)     # GSTR-2B needs regeneration, stored 2Bs (app/gstr2b_panel.py)

if counts.is_empty():
    ui.no_data_yet("IMS records")
else:
    st.subheader("Records by action")
    st.dataframe(counts, hide_index=True, column_config={
        "business": "Business", "gstin": "GSTIN", "total": "Total", "no_action": "No action",
        "accepted": "Accepted", "rejected": "Rejected", "pending": "Pending",
        "recommend_accept": "Rec. accept", "recommend_reject": "Rec. reject",
        "recommend_pending": "Rec. pending", "not_synced": "Not synced"})
    itc = ui.cached(dash.itc_by_status, gstins)
    left, right = st.columns(2)
    portal = counts.rename(PORTAL_WORDS).unpivot(
        index="business", on=list(PORTAL_WORDS.values()), variable_name="portal action",
        value_name="records")
    left.plotly_chart(px.bar(portal, x="business", y="records", color="portal action",
                             title="Portal action",
                             category_orders={"portal action": list(PORTAL_WORDS.values())}),
                      key="portal_actions")
    itc, unit = scaled(itc.with_columns(
        pl.col("match_status").map_elements(labels.status_words, return_dtype=pl.Utf8),
        pl.col("gstin").map_elements(ui.label_business, return_dtype=pl.Utf8)), "itc")
    right.plotly_chart(px.bar(itc, x="match_status", y="itc", color="gstin", barmode="group",
                              title=f"ITC (tax, {unit}) by match status",
                              labels={"itc": f"ITC ({unit})", "match_status": "match status",
                                      "gstin": "business"},
                              category_orders={"match_status": list(labels.STATUS_ORDER)}),
                       key="itc_status")


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
    st.dataframe([{"Business": ui.label_business(r["gstin"]) if r["gstin"] else "",
                   "Job": r["job"], "Started by": r["triggered_by"],
                   "Started": ui.when(r["started_at"]), "Stopped": ui.when(r["finished_at"]),
                   "Why": r["error"]} for r in stopped.to_dicts()], hide_index=True)


@st.fragment(run_every="30s")
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
    rows = [{"Business": ui.label_business(r["gstin"]), "Last fetch": ui.when(r["last_fetch"]),
             "Fetch OK": r["last_fetch_ok"], "Next fetch": ui.when(r["next_fetch"]),
             "Last sync": ui.when(r["last_sync"]), "Sync OK": r["last_sync_ok"],
             "Sync done by": ui.when(r["sync_due_by"]),
             "Failures (7 days)": failures.get(r["gstin"], 0), "Last error": r["last_error"],
             "Last GSTR-2B": r["last_gstr2b"]}
            for r in business_job_status(gstins=gstins)]
    st.dataframe(rows, hide_index=True)
    stopped_runs()
    st.caption(f"Refreshed {ui.when(utc_now())}; updates every 30 s.")


job_health()
backup_ui.backup_state()
