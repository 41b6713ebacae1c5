"""Reconciliation: run IMS vs PR or GSTR-2A vs PR for chosen periods, see the results in
charts and a drill-down grid, download them with the recommended actions."""
from __future__ import annotations

from functools import partial

import plotly.express as px
import polars as pl
import streamlit as st

from app import charts, ui, url_state
from app.manual_match import show_document_match, show_review_list
from core import export, labels
from core.business import supplier_labels
from core.figures import count_words, counted, rupees, scaled
from core.ims import download_name, page_count, sync
from core.reco import view as rv
from core.timefmt import shown_time

KINDS = labels.RECO_KINDS
PAGE_SIZE = 50

st.title("Reconciliation")
ui.show_flash()
gstins = ui.require_businesses()
actor = ui.current_actor()

runs = ui.cached(rv.list_runs, gstins)          # newest first
latest = runs["rtin"][0] if not runs.is_empty() and runs["rtin"][0] in gstins else gstins[0]
# the choices live in the address too: F5 or a shared link opens the same run
KIND_WORDS = {"ims_vs_pr": "ims", "2a_vs_pr": "gstr-2a", "2b_vs_pr": "gstr-2b"}
latest = (url_state.asked("business", gstins) or [latest])[0]
asked_kind = (url_state.asked("kind", list(KINDS), KIND_WORDS) or [None])[0]
if unseen := url_state.not_granted("business", gstins):
    st.warning(f"The link names {', '.join(unseen)}, which is not among the businesses you may "
               "see; showing another.")

with st.container(border=True):   # not a form: the business drives the periods and runs shown
    c1, c3 = st.columns([5, 3])     # the business's whole name and GSTIN fit at 1440 px
    gstin = c1.selectbox("Business", gstins, index=gstins.index(latest),
                         format_func=ui.label_business, key="reco_business",
                         help="Starts at the business reconciled last")
    kind = st.radio("Kind", list(KINDS), format_func=KINDS.get, key="reco_kind",
                    horizontal=True, index=list(KINDS).index(asked_kind) if asked_kind else 0)
    offered = ui.cached(rv.reco_periods, [gstin], kind)
    period_words = {p: url_state.url_word(labels.period_words(p)) for p in offered}
    from_link = url_state.asked("periods", offered, period_words) if "periods" in \
        st.query_params and asked_kind == kind else None
    periods = c3.multiselect("Periods (empty = all)", offered, key=f"reco_periods_{gstin}_{kind}",
                             default=rv.default_periods(kind, offered) if from_link is None
                             else from_link,
                             format_func=labels.period_words,
                             help="GSTR-2B vs Purchase Register starts at the latest GSTR-2B "
                                  "fetched; the other kinds at all periods")
    run_now = st.button("Run now", type="primary", disabled=not ui.can("reconcile"))
    ui.read_only_note("reconcile", "run a reconciliation")
st.query_params.from_dict({"business": gstin, "kind": KIND_WORDS[kind],
                          "periods": ",".join(period_words[p] for p in periods) or "all"})
chosen_words = (f"{KINDS[kind]} · {ui.label_business(gstin)} · "
                f"{labels.periods_words(','.join(periods)) or 'all periods'}")
if run_now and ui.permitted("reconcile", "run a reconciliation"):
    with st.status(f"Reconciling {chosen_words} ...", expanded=True) as status:
        st.write("Reading the portal side and the purchase register, matching in five passes ...")
        try:
            run_id = sync.run_reconciliation(gstin, kind, list(periods) or None, actor)
            status.update(label=f"Reconciled {chosen_words}.", state="complete")
            st.session_state["reco_run"] = run_id
        except Exception as exc:  # noqa: BLE001 - any failure is shown as the run's outcome
            status.update(label=f"Reconciliation failed: {exc}", state="error")
    ui.after_write()

show_review_list([gstin])
runs = rv.runs_of_choice(ui.cached(rv.list_runs, [gstin]), gstin, kind, periods)
st.subheader(chosen_words)
if runs.is_empty():
    st.info(f"No reconciliation of {chosen_words} has run yet. Press **Run now**"
            + (", or wait for the daily sync after the fetch" if kind != "2b_vs_pr" and not periods
               else "") + ". Import the purchase register first (Purchase Register page).")
    st.stop()


def run_label(runs: pl.DataFrame, run: int) -> str:
    r = runs.row(runs["run_id"].to_list().index(run), named=True)
    return (f"Run {r['run_id']} · {KINDS.get(r['kind'], r['kind'])} · "
            f"{labels.periods_words(r['periods']) or 'all periods'} · "
            f"{shown_time(r['started_at'])} · {counted(r['rows'], 'row')}")


run_ids = runs["run_id"].to_list()     # the run just started here, else the newest
just_run = st.session_state.get("reco_run")
run_id = st.selectbox("Run", run_ids, index=run_ids.index(just_run) if just_run in run_ids else 0,
                      format_func=partial(run_label, runs),
                      help="The runs of this business, kind and periods, newest first")

summary = ui.cached(rv.status_summary, run_id, gstins)
chosen_run = runs.row(run_ids.index(run_id), named=True)
whose = (ui.label_business(chosen_run["rtin"]),
         f"run {run_id} of {shown_time(chosen_run['started_at'])}")


def drill_to(status: str | None = None, supplier: str | None = None) -> None:
    """A click on a chart: the drill-down below shows that status and/or supplier."""
    st.session_state["drill_status"] = [status] if status else []
    st.session_state["drill_supplier"] = supplier or ""
    st.session_state["drill_opened"] = True


def status_frame(frame: pl.DataFrame, value: str) -> pl.DataFrame:
    """Statuses in words (the legend's colours and order), the figure in Indian grouping."""
    shown = rupees if value == "tax_value" else count_words
    return frame.with_columns(
        labels.each(frame["match_status"], labels.status_words).alias("Status"),
        labels.each(frame[value], shown).alias("shown"))


def run_charts(run_id: int, gstins: list[str], rtin: str, whose: tuple) -> dict:
    """The run's five charts, finished (built once per data version for every session:
    ui.built_once; never changed after)."""
    summary = ui.cached(rv.status_summary, run_id, gstins)
    by_status = status_frame(summary, "records")
    by_value, unit = scaled(status_frame(summary, "tax_value"), "tax_value")
    pie = charts.hover(px.pie(by_status, names="Status", values="records", hole=0.45,
                              title=charts.titled("Status by count", *whose), color="Status",
                              custom_data=["shown", "match_status"], **charts.STATUS_CHART)
                       .update_traces(sort=False), "records")
    pie.update_traces(hovertemplate="%{label}<br>records: %{customdata[0]}<extra></extra>",
                      textposition="inside")     # a slice too thin for its share shows none:
    pie.update_layout(uniformtext_minsize=10, uniformtext_mode="hide")   # no crowded labels
    fig = px.bar(by_value, x="Status", y="tax_value", custom_data=["shown", "match_status"],
                 title=charts.titled(f"Status by value (tax, {unit})", *whose),
                 labels={"tax_value": f"tax ({unit})"}, color="Status", **charts.STATUS_CHART)
    fig = charts.indian_axis(charts.hover(fig, "tax"), by_value["tax_value"].to_list(),
                             decimals=2)
    shown_statuses = set(by_value["Status"].to_list())   # no empty places for absent statuses
    fig.update_xaxes(categoryorder="array",
                     categoryarray=[s for s in labels.STATUS_ORDER if s in shown_statuses])
    built = {"by_count": charts.fitted(pie),
             "by_value": charts.fitted(fig.update_layout(showlegend=False))}
    top = ui.cached(rv.top_suppliers_at_risk, run_id, gstins)
    names = supplier_labels(rtin, top["supplier_gstin"].to_list())
    top = top.with_columns(
        pl.col("supplier_gstin").replace_strict(names, default=pl.col("supplier_gstin"))
        .alias("Supplier"),
        labels.each(top["value_at_risk"], rupees).alias("shown"))
    top, unit = scaled(top, "value_at_risk")
    fig = px.bar(top, x="value_at_risk", y="Supplier", orientation="h",
                 custom_data=["shown", "supplier_gstin"],
                 labels={"value_at_risk": f"tax at risk ({unit})"},
                 title=charts.titled(f"Top suppliers by value at risk (tax, {unit}; not "
                                     "matched)", *whose))
    fig.update_traces(hovertemplate="%{y}<br>tax at risk: %{customdata[0]}<extra></extra>")
    fig = charts.indian_axis(fig, top["value_at_risk"].to_list(), axis="x", decimals=2)
    built["top_suppliers"] = charts.fitted(fig.update_yaxes(autorange="reversed", title=None))
    reasons = ui.cached(rv.reasons_breakdown, run_id, gstins)
    reasons = reasons.with_columns(labels.each(reasons["reason"], labels.reason_words),
                                   labels.each(reasons["records"], count_words).alias("shown"))
    built["reasons"] = None
    if not reasons.is_empty():
        fig = px.bar(reasons, x="reason", y="records", title=charts.titled("Reasons", *whose),
                     custom_data=["shown"], labels={"reason": "reason"})
        fig.update_traces(hovertemplate="%{x}<br>records: %{customdata[0]}<extra></extra>")
        built["reasons"] = charts.fitted(charts.indian_axis(fig, reasons["records"].to_list()))
    by_period = ui.cached(rv.trend_by_period, run_id, gstins)
    trend = status_frame(by_period, "records")
    trend = trend.with_columns(labels.each(trend["period"], labels.period_words))  # 'Sep 2025'
    fig = px.bar(trend, x="period", y="records", color="Status",
                 custom_data=["shown", "match_status"],
                 title=charts.titled("Trend by period", *whose), **charts.STATUS_CHART)
    totals = trend.group_by("period").agg(pl.col("records").sum())["records"].to_list()
    fig = charts.indian_axis(charts.hover(fig, "records"), totals)
    in_date_order = [labels.period_words(p) for p in sorted(
        set(by_period["period"].drop_nulls().to_list()), key=lambda p: (p[2:], p[:2]))]
    fig.update_xaxes(type="category", title="return period", categoryorder="array",
                     categoryarray=in_date_order)
    built["trend"] = charts.fitted(fig)
    return built


CHART_TABS = ("By status", "Top suppliers at risk", "Reasons", "Trend by period")


@st.fragment
def run_charts_drawn(built: dict) -> None:
    """The run's charts, one tab at a time: only the open tab's charts go to the browser
    (plotly draws every chart it is sent, tabs open or not: about 0.1 s of the browser's CPU
    per chart on every view; docs/reliability.md). Changing tab reruns only this part. A click
    on a bar fills the drill-down below, so it reruns the whole page."""
    tab = dict(zip(CHART_TABS, st.tabs(CHART_TABS, key="reco_chart_tab", on_change="rerun"),
                   strict=True))
    clicked: list[dict] = []
    if tab["By status"].open:
        left, right = tab["By status"].columns(2)
        if point := charts.drawn(left, built["by_count"], "by_count"):
            clicked.append({"status": point["customdata"][1]})
        if point := charts.drawn(right, built["by_value"], "by_value"):
            clicked.append({"status": point["customdata"][1]})
    top = tab["Top suppliers at risk"]
    if top.open and (point := charts.drawn(top, built["top_suppliers"], "top_suppliers")):
        clicked.append({"supplier": point["customdata"][1]})
    if tab["Reasons"].open:
        if built["reasons"] is None:
            tab["Reasons"].caption("No record of this run has a reason for a mismatch.")
        else:
            tab["Reasons"].plotly_chart(built["reasons"], key="reasons", config=charts.CONFIG)
    trend = tab["Trend by period"]
    if trend.open and (point := charts.drawn(trend, built["trend"], "trend")):
        clicked.append({"status": point["customdata"][1]})
    st.caption(charts.CLICK_HINT)
    if clicked:
        drill_to(**clicked[0])
        st.rerun()


run_charts_drawn(ui.built_once(run_charts, run_id, gstins, chosen_run["rtin"], whose))

st.subheader("Drill down")
DRILL_HEADINGS = {
    "match_status": st.column_config.TextColumn("Status", help="  \n".join(
        f"**{w}**: {h}" for c, (w, h) in labels.STATUSES.items() if c != "(not synced)")),
    "recommended_action": "Recommended", "reasons": "Reasons",
    "company_gstin": "Business GSTIN", "supplier_gstin": "Supplier GSTIN",
    "doc_type": "Document type", "rtnprd": "Return period",
    "portal_doc_no": "Portal document", "portal_doc_date": "Portal date",
    "pr_doc_no": "Books document", "pr_doc_date": "Books date", "pr_line": "Books line",
    **{c: st.column_config.TextColumn(f"{w} ₹", alignment="right") for c, w in (
        ("portal_txval", "Portal taxable"), ("pr_txval", "Books taxable"),
        ("portal_tax", "Portal tax"), ("pr_tax", "Books tax"),
        ("diff_txval", "Taxable difference"), ("diff_tax", "Tax difference"),
        ("decl_igst", "Reduce IGST"), ("decl_cgst", "Reduce CGST"), ("decl_sgst", "Reduce SGST"),
        ("decl_cess", "Reduce cess"))},
    "nearest_doc_no": "Nearest candidate", "nearest_reason": "Why it did not match"}
in_order = sorted(summary["match_status"].to_list(),
                  key=lambda c: list(labels.STATUSES).index(c) if c in labels.STATUSES else 99)
LONG_TEXT = {"reasons": "Reasons", "nearest_reason": "Why it did not match",
             "supplier_remark": "Proposed remark"}
c1, c2 = st.columns([3, 2])
statuses = c1.multiselect("Status", in_order, key="drill_status",
                          format_func=labels.status_words)
supplier = c2.text_input("Supplier GSTIN (empty = all)", key="drill_supplier", max_chars=15)
if st.session_state.pop("drill_opened", False):
    st.info("Showing the documents behind the bar you clicked: "
            + "; ".join(filter(None, [", ".join(map(labels.status_words, statuses)),
                                      supplier and f"supplier {supplier}"])) + ".")
page_key = f"drill_page_{run_id}_{'_'.join(statuses)}_{supplier.strip().upper()}"
page_no = st.session_state.get(page_key, 1) or 1
rows, total = ui.cached(rv.results_page, run_id, gstins, statuses, page_no, PAGE_SIZE, supplier)
shown = rv.shown_results(rows)
if "supplier_gstin" in shown.columns:       # the supplier's name beside its GSTIN
    named = supplier_labels(chosen_run["rtin"], shown["supplier_gstin"].unique().to_list())
    shown = shown.with_columns(pl.col("supplier_gstin").replace_strict(
        named, default=pl.col("supplier_gstin")).alias("supplier_gstin"))
by_hand = chosen_run["kind"] in ("2a_vs_pr", "2b_vs_pr")   # its documents can be matched by hand
picked = st.dataframe(shown, hide_index=True, placeholder="", key=f"drill_pick_{page_key}",
                      on_select="rerun" if by_hand else "ignore", selection_mode="single-row",
                      column_config={
    **DRILL_HEADINGS,
    "supplier_gstin": st.column_config.TextColumn("Supplier", width="large",
                                                  help="Name (books, else GSTR-2B) · GSTIN"),
    **{c: st.column_config.TextColumn(w, width="large", help=f"{w} (hover a cell for all of it)")
       for c, w in LONG_TEXT.items()},
    "itc_red_req": "ITC to be reduced (proposed)",
    "user_supplier_remark": st.column_config.TextColumn(
        "Remark to supplier", help="What the team wrote to the supplier (sent with the action)"),
    "internal_note": st.column_config.TextColumn("Internal note", help="Never sent")})
st.pagination(page_count(total, PAGE_SIZE), key=page_key)
st.caption(f"{counted(total, 'row')}"
           + (": click a row to match its document by hand" if by_hand else ""))
if by_hand and picked and picked.selection.rows:
    show_document_match(gstins, chosen_run, rows.row(picked.selection.rows[0], named=True))


def export_bytes(run_id: int, gstins: list[str], excel: bool) -> bytes:
    """The run's results with the recommended actions, as a download (Excel or CSV)."""
    frame = rv.export_with_words(rv.results_export(run_id, gstins), gstins)
    return export.to_excel_bytes(frame, "Reconciliation") if excel else export.to_csv_bytes(frame)


run = chosen_run
d1, d2, _ = st.columns([1, 1, 3])
for column, excel in ((d1, False), (d2, True)):   # built on the click; the page never reruns
    ext = "xlsx" if excel else "csv"
    column.download_button(
        f"Download {'Excel' if excel else 'CSV'}", partial(export_bytes, run_id, gstins, excel),
        file_name=download_name(f"reco-{run['kind'].replace('_', '-')}", [gstin],
                                (run["periods"] or "").split(","), f"run{run_id}", ext),
        mime=export.XLSX_MIME if excel else "text/csv", icon=":material/download:",
        key=f"reco_download_{ext}", on_click="ignore")
