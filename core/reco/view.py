"""The Reconciliation screen's queries over stored runs (reco_runs / reco_results):
status by count and value, top suppliers by value at risk, reasons, trend by period,
a paged drill-down and the full export.
"""
from __future__ import annotations

import polars as pl

from core.business import supplier_names
from core.figures import amounts_as_text
from core.labels import date_words, each, itc_words, period_words, worded, words_first
from core.matched import matched_sql
from core.store import connect, query_frame

VALUE = "coalesce(portal_tax, pr_tax, 0)"
AT_RISK = f"NOT {matched_sql()}"   # not matched to the books (a pair made by hand is)
RESULT_FIELDS = ("match_status", "recommended_action", "reasons", "company_gstin",
                 "supplier_gstin", "doc_type", "rtnprd", "portal_doc_no", "portal_doc_date",
                 "pr_doc_no", "pr_doc_date", "pr_line", "portal_txval", "pr_txval", "portal_tax",
                 "pr_tax", "diff_txval", "diff_tax", "nearest_doc_no", "nearest_reason",
                 "itc_red_req", "decl_igst", "decl_cgst", "decl_sgst", "decl_cess",
                 "supplier_remark", "trdnm", "itcavl", "rsn", "supprd", "supfildt",
                 "rejected_in_ims", "itc_advice")
# the GSTR-2B facts of a 2b_vs_pr run (empty for the other kinds), as a person names them
FACT_HEADINGS = {"trdnm": "Supplier name", "itcavl": "ITC in 2B",
                 "itc_advice": "What to do before GSTR-3B", "supprd": "Supplier's period",
                 "supfildt": "Supplier filed on"}
# the run's rows (x) beside the IMS record's two texts today: the remark to the supplier the
# user wrote (sent) and the team's internal note (never sent)
RESULT_COLUMNS = (", ".join(f"x.{c}" for c in RESULT_FIELDS)
                  + ", i.user_supplier_remark, i.internal_note")
WITH_TEXTS = "x LEFT JOIN ims_records i ON i.record_id = x.ims_record_id"


def list_runs(gstins: list[str]) -> pl.DataFrame:
    """Finished and running reconciliation runs, newest first."""
    with connect(read_only=True) as con:
        return query_frame(con, """
            SELECT run_id, rtin, kind, periods, policy, tolerance::DOUBLE AS tolerance, date_window,
                   started_at, finished_at, triggered_by,
                   (SELECT count(*) FROM reco_results x WHERE x.run_id = r.run_id) AS rows
            FROM reco_runs r WHERE list_contains(?::VARCHAR[], rtin)
            ORDER BY run_id DESC""", [list(gstins)])


def runs_of_choice(runs: pl.DataFrame, gstin: str, kind: str,
                   periods: list[str] | None) -> pl.DataFrame:
    """The runs (of `list_runs`) of this business and kind over exactly these periods (none:
    all periods), newest first: the run shown is the one chosen, never another kind's."""
    want = ",".join(sorted(periods or []))
    same = pl.col("periods").fill_null("").str.split(",").list.sort().list.join(",")
    return runs.filter((pl.col("rtin") == gstin) & (pl.col("kind") == kind) & (same == want))


def default_periods(kind: str, offered: list[str]) -> list[str]:
    """What a kind reconciles unless told: a GSTR-2B is one period's return, so the latest
    stored one; IMS and GSTR-2A all their periods (as the daily sync does)."""
    return offered[:1] if kind == "2b_vs_pr" else []


def _scoped(run_id: int, gstins: list[str], extra: str = "", extra_params: list | None = None):
    where = ("run_id = ? AND run_id IN (SELECT run_id FROM reco_runs WHERE "
             "list_contains(?::VARCHAR[], rtin))"
             + (f" AND {extra}" if extra else ""))
    return where, [int(run_id), list(gstins), *(extra_params or [])]


def status_summary(run_id: int, gstins: list[str]) -> pl.DataFrame:
    where, params = _scoped(run_id, gstins)
    with connect(read_only=True) as con:
        return query_frame(con,
                           f"SELECT match_status, count(*) AS records, sum({VALUE})::DOUBLE AS "
                           f"tax_value "
                                f"FROM reco_results WHERE {where} GROUP BY 1 ORDER BY records DESC",
                           params)


def top_suppliers_at_risk(run_id: int, gstins: list[str], limit: int = 10) -> pl.DataFrame:
    where, params = _scoped(run_id, gstins, AT_RISK)
    with connect(read_only=True) as con:
        return query_frame(con, f"SELECT supplier_gstin, count(*) AS records, "
                                f"sum({VALUE})::DOUBLE AS value_at_risk FROM reco_results WHERE "
                                f"{where} GROUP BY 1 ORDER BY value_at_risk DESC LIMIT ?",
                           params + [limit])


def reasons_breakdown(run_id: int, gstins: list[str]) -> pl.DataFrame:
    where, params = _scoped(run_id, gstins, "reasons IS NOT NULL AND reasons <> ''")
    with connect(read_only=True) as con:
        return query_frame(con, f"SELECT reason, count(*) AS records FROM (SELECT "
                                f"unnest(string_to_array(reasons, ';')) AS reason FROM reco_results "
                                f"WHERE {where}) reasons GROUP BY 1 ORDER BY records DESC", params)


def trend_by_period(run_id: int, gstins: list[str]) -> pl.DataFrame:
    where, params = _scoped(run_id, gstins)
    with connect(read_only=True) as con:
        return query_frame(con, f"""
            SELECT period, match_status, count(*) AS records, sum({VALUE})::DOUBLE AS tax_value
            FROM (SELECT *, coalesce(rtnprd, lpad(CAST(extract(month FROM pr_doc_date) AS VARCHAR), 2, '0')
                                         || CAST(extract(year FROM pr_doc_date) AS VARCHAR)) AS period
                  FROM reco_results WHERE {where}) dated
            GROUP BY period, match_status
            ORDER BY right(period, 4), left(period, 2), match_status""", params)


def results_page(run_id: int, gstins: list[str], statuses: list[str], page: int,
                 page_size: int = 50, supplier: str = "") -> tuple[pl.DataFrame, int]:
    """One page of results (optionally of some statuses, of one supplier GSTIN) and the total
    count."""
    conditions, values = [], []
    if statuses:
        conditions.append("list_contains(?::VARCHAR[], match_status)")
        values.append(list(statuses))
    if supplier.strip():
        conditions.append("supplier_gstin = ?")
        values.append(supplier.strip().upper())
    where, params = _scoped(run_id, gstins, " AND ".join(conditions), values)
    with connect(read_only=True) as con:
        total = con.execute(f"SELECT count(*) FROM reco_results WHERE {where}",
                            params).fetchall()[0][0]
        frame = query_frame(con, f"SELECT {RESULT_COLUMNS}, x.pr_doc_id FROM (SELECT * FROM "
                                 f"reco_results WHERE {where}) {WITH_TEXTS} ORDER BY "
                                 f"x.match_status, x.supplier_gstin, x.portal_doc_no, "
                                 f"x.pr_doc_no LIMIT ? OFFSET ?",
                            params + [page_size, max(page - 1, 0) * page_size])
    return frame, total


def results_export(run_id: int, gstins: list[str]) -> pl.DataFrame:
    where, params = _scoped(run_id, gstins)
    with connect(read_only=True) as con:
        return query_frame(con, f"SELECT {RESULT_COLUMNS} FROM (SELECT * FROM reco_results "
                                f"WHERE {where}) {WITH_TEXTS} ORDER BY x.match_status, "
                                f"x.supplier_gstin, x.portal_doc_no", params)


def reco_periods(gstins: list[str], kind: str) -> list[str]:
    """Return periods available as the portal side of a reconciliation of `kind`."""
    sql = ("SELECT DISTINCT rtnprd FROM ims_records WHERE list_contains(?::VARCHAR[], rtin) AND "
           "rtnprd IS NOT NULL"
           if kind == "ims_vs_pr" else
           "SELECT DISTINCT rtnprd FROM gstr2b_returns WHERE list_contains(?::VARCHAR[], gstin)"
           if kind == "2b_vs_pr" else
           "SELECT DISTINCT ret_period FROM gstr2a_docs WHERE list_contains(?::VARCHAR[], rtin)")
    with connect(read_only=True) as con:
        rows = con.execute(sql, [list(gstins)]).fetchall()
    return sorted((r[0] for r in rows), key=lambda p: (p[2:], p[:2]), reverse=True)


AMOUNTS = ("portal_txval", "pr_txval", "portal_tax", "pr_tax", "diff_txval", "diff_tax",
           "decl_igst", "decl_cgst", "decl_sgst", "decl_cess")
ANSWER_WORDS = {"Y": "Yes", "N": "No"}


def shown_results(frame: pl.DataFrame) -> pl.DataFrame:
    """A page of results as people read it: statuses, reasons, actions, document types and
    periods in words, dates as '20 Sep 2025', amounts in Indian grouping, blanks for nothing
    (the books document's id, kept to act on a row, left out)."""
    shown = worded(frame.drop("pr_doc_id", strict=False), {"match_status": "match_status", "reasons": "reasons",
                           "recommended_action": "action_or_blank", "doc_type": "doc_type",
                           "rtnprd": "period", "portal_doc_date": "date",
                           "pr_doc_date": "date"})
    if "itc_red_req" in shown.columns:
        shown = shown.with_columns(pl.col("itc_red_req").replace_strict(
            ANSWER_WORDS, default=pl.col("itc_red_req")).fill_null(""))
    shown = facts_in_words(shown)
    text = [c for c, t in shown.schema.items() if t == pl.Utf8]
    return amounts_as_text(shown, *AMOUNTS).with_columns(pl.col(text).fill_null(""))


def facts_in_words(frame: pl.DataFrame) -> pl.DataFrame:
    """A 2b_vs_pr run's GSTR-2B facts under their headings in words ('ITC not available:
    <reason>', the advice capitalised, the supplier's period and filing date), the advice and
    ITC first and the trade name beside the supplier's GSTIN; the fact columns dropped for the
    other kinds (they have no advice)."""
    codes = [c for c in (*FACT_HEADINGS, "rsn", "rejected_in_ims") if c in frame.columns]
    if "itc_advice" not in frame.columns or frame["itc_advice"].null_count() == frame.height:
        return frame.drop(codes)
    words = frame.with_columns(
        pl.Series("itcavl", [itc_words(a, r) for a, r in zip(frame["itcavl"].to_list(),
                                                             frame["rsn"].to_list())],
                  dtype=pl.Utf8),
        each(frame["itc_advice"], lambda a: a[:1].upper() + a[1:]),
        each(frame["supprd"], period_words), each(frame["supfildt"], date_words))
    words = words.drop("rsn", "rejected_in_ims").rename(FACT_HEADINGS)
    first = [c for c in ("match_status", "What to do before GSTR-3B", "ITC in 2B")
             if c in words.columns]
    order = [*first, *[c for c in words.columns if c not in first and c != "Supplier name"]]
    after = order.index("supplier_gstin") + 1 if "supplier_gstin" in order else len(order)
    return words.select(order[:after] + ["Supplier name"] + order[after:])


def export_with_words(frame: pl.DataFrame, gstins: list[str] | None = None) -> pl.DataFrame:
    """The download: the facts in words first, then every code column as it is
    (docs/interfaces.md). The supplier's name comes from the 2B's trade name (2B vs books) or,
    given the businesses `gstins`, from core/business/supplier_names.py (books, else 2B, else the port)."""
    if "itc_advice" in frame.columns and frame["itc_advice"].null_count() < frame.height:
        facts = facts_in_words(frame.select(*FACT_HEADINGS, "rsn", "rejected_in_ims"))
        return words_first(facts.hstack(frame))
    codes = frame.drop([c for c in (*FACT_HEADINGS, "rsn", "rejected_in_ims")
                        if c in frame.columns])
    plain = words_first(codes)
    if not gstins or "supplier_gstin" not in frame.columns:
        return plain
    stins = [s for s in frame["supplier_gstin"].unique().to_list() if s]
    names = supplier_names(gstins, stins)
    named = frame["supplier_gstin"].replace_strict(names, default="", return_dtype=pl.Utf8)
    # after the words, before the code columns
    return plain.insert_column(plain.width - codes.width, named.alias("Supplier name"))
