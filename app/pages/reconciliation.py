"""Reconciliation: run IMS vs PR or GSTR-2A vs PR for chosen periods, see the results in
charts and a drill-down grid, download them with the recommended actions."""
from __future__ import annotations

import plotly.express as px
import streamlit as st

from app import ui
from core import reco_view as rv
from core.ims_view import page_count

KINDS = {"ims_vs_pr": "IMS vs Purchase Register", "2a_vs_pr": "GSTR-2A vs Purchase Register"}
PAGE_SIZE = 50

st.title("Reconciliation")
ui.show_flash()
gstins = ui.require_businesses()
actor = ui.current_actor()

with st.container(border=True):   # not a form: the business drives the periods and the run shown
    c1, c2, c3 = st.columns([2, 2, 3])
    gstin = c1.selectbox("Business", gstins, format_func=ui.label_business, key="reco_business")
    kind = c2.radio("Kind", list(KINDS), format_func=KINDS.get, key="reco_kind")
    periods = c3.multiselect("Periods (empty = all)", ui.cached(rv.reco_periods, [gstin], kind),
                             key="reco_periods")
    run_now = st.button("Run now", type="primary", disabled=not ui.can("reconcile"))
    ui.read_only_note("reconcile", "run a reconciliation")
if run_now and ui.permitted("reconcile", "run a reconciliation"):
    sync = ui.optional_module("core.sync", "Running a reconciliation")
    if sync is not None:
        with st.status(f"Reconciling {KINDS[kind]} for {ui.label_business(gstin)} ...", expanded=True) as status:
            st.write("Reading the portal side and the purchase register, matching in five passes ...")
            try:
                run_id = sync.run_reconciliation(gstin, kind, list(periods) or None, actor)
                status.update(label=f"Run {run_id} done.", state="complete")
                st.session_state["reco_run"] = run_id
            except Exception as exc:  # shown as the run's outcome
                status.update(label=f"Reconciliation failed: {exc}", state="error")
        ui.after_write()

runs = ui.cached(rv.list_runs, gstins)
if runs.is_empty():
    st.info("No reconciliation has run yet. Choose a business and press **Run now**, or wait for the "
            "daily sync after the fetch. Import the purchase register first (Purchase Register page).")
    st.stop()


def default_run(run_ids: list[int]) -> int:
    """The run just started here if it is the chosen business's, else that business's newest
    run (runs are newest first), else the newest run of any visible business."""
    own = runs.filter(runs["rtin"] == gstin)["run_id"].to_list()
    just_run = st.session_state.get("reco_run")
    return just_run if just_run in own else (own[0] if own else run_ids[0])


run_ids = runs["run_id"].to_list()
run_id = st.selectbox("Run", run_ids, index=run_ids.index(default_run(run_ids)),
                      format_func=lambda r: "{run_id} · {rtin} · {kind} · {periods} · {started_at:%d %b %Y %H:%M} · "
                      "{rows} rows".format(**runs.filter(runs["run_id"] == r).row(0, named=True) |
                                           {"periods": runs.filter(runs["run_id"] == r)["periods"][0] or "all periods"}))

summary = ui.cached(rv.status_summary, run_id, gstins)
left, right = st.columns(2)
left.plotly_chart(px.pie(summary, names="match_status", values="records", hole=0.45,
                         title="Status by count"), key="by_count")
right.plotly_chart(px.bar(summary, x="match_status", y="tax_value", title="Status by value (tax ₹)",
                          labels={"tax_value": "tax ₹"}), key="by_value")
left, right = st.columns(2)
top = ui.cached(rv.top_suppliers_at_risk, run_id, gstins)
left.plotly_chart(px.bar(top, x="value_at_risk", y="supplier_gstin", orientation="h",
                         title="Top suppliers by value at risk (tax ₹, not exact/partial)"), key="top_suppliers")
reasons = ui.cached(rv.reasons_breakdown, run_id, gstins)
right.plotly_chart(px.bar(reasons, x="reason", y="records", title="Reasons"), key="reasons")
trend = ui.cached(rv.trend_by_period, run_id, gstins)
st.plotly_chart(px.bar(trend, x="period", y="records", color="match_status", title="Trend by period"),
                key="trend")

st.subheader("Drill down")
statuses = st.multiselect("Status", summary["match_status"].to_list(), key="drill_status")
page_key = f"drill_page_{run_id}_{'_'.join(statuses)}"
page_no = st.session_state.get(page_key, 1) or 1
rows, total = ui.cached(rv.results_page, run_id, gstins, statuses, page_no, PAGE_SIZE)
st.dataframe(rows, hide_index=True)
st.pagination(page_count(total, PAGE_SIZE), key=page_key)
st.caption(f"{total:,} rows")

export = ui.optional_module("core.export", "Downloads")
if export is not None:
    d1, d2, _ = st.columns([1, 1, 3])
    d1.download_button("Download CSV", lambda: export.to_csv_bytes(rv.results_export(run_id, gstins)),
                       file_name=f"reco_run_{run_id}.csv", mime="text/csv", icon=":material/download:")
    d2.download_button("Download Excel",
                       lambda: export.to_excel_bytes(rv.results_export(run_id, gstins), "Reconciliation"),
                       file_name=f"reco_run_{run_id}.xlsx", icon=":material/download:",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
