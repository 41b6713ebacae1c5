"""GSTR-3B filing status (RETTRACK) and what follows from it (docs/month-close.md).

`track_filings` asks RETTRACK about the last few tax periods of a business and stores the
answers (`return_filings`); every fetch does it first (core.ims.fetch). Once a period's GSTR-3B
is filed, the portal takes that period's accepted and rejected records out of IMS. The store
keeps them: `keep_filed` (called by the IMS fetch, core.ims.store) marks such a record as
having left IMS with that return (`left_ims_at`, `filed_period`) instead of removed, so it
stays visible with its action log; records a fetch marked removed before the filing was
known are turned back the same way when it is. `filed_refusals` is the reason an upload for
such a record is refused before anything is sent (core.ims.upload_queue).

A record belongs to the earliest filed GSTR-3B whose period is at or after its 2B period
(core.calendar.period_2b: the stored 2B holding it, else when its supplier filed it, else for a
record kept pending the period open now; not its return period `rtnprd`). Accepted, rejected
and no-action records leave with it (a record with no action is deemed accepted when the 2B is
generated, and leaves as accepted: never "removed by the supplier"); pending ones stay.
"""
from __future__ import annotations

import datetime as dt
import logging

import polars as pl

from core.calendar import (
    FILED,
    RETURN,
    business_calendar,
    calendars,
    day_text,
    month_index,
    period_label,
    periods_join,
    periods_with,
    step,
    store_filings,
)
from core.clock import business_tz, utc_now
from core.clock import today as business_today
from core.portal.gsp import GstnError, ReauthenticationNeeded
from core.store import (
    connect,
    earliest,
    int_or_null,
    query_frame,
    replace_temp_table,
    transaction,
)

log = logging.getLogger(__name__)

RETURNS_PATH = "/taxpayerapi/v1.0/returns"
PERIODS_ASKED = 3   # the last three tax periods that have ended


def _key(col: str) -> str:
    """MMYYYY -> YYYYMM as a number, for comparing periods in SQL."""
    return f"({int_or_null(f'right({col}, 4)')} * 100 + {int_or_null(f'left({col}, 2)')})"


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _period_words(col: str) -> str:
    """SQL: MMYYYY -> 'Mar 2025'."""
    whens = " ".join(f"WHEN '{n:02d}' THEN '{m}'" for n, m in enumerate(MONTHS, 1))
    return f"(CASE left({col}, 2) {whens} END || ' ' || right({col}, 4))"


# The filed GSTR-3B a record `r` goes out of IMS with: the earliest at or after its 2B period.
COVERING = f"""(SELECT {earliest('f.ret_period', _key('f.ret_period'))} FROM return_filings f
                WHERE f.gstin = r.rtin AND f.rtntype = '{RETURN}' AND f.status = '{FILED}'
                  AND {month_index('f.ret_period')} >= p2b.period_mi)"""
# COVERING needs each record's 2B period beside it (core.calendar.periods_join)
PERIODS_JOIN = periods_join("r")
# the records of a business (?) sharing section, supplier, number and year with another
LISTED_TWICE = """
    SELECT d.record_id FROM ims_records d
    JOIN (SELECT section, stin, doc_no_key, fy FROM ims_records
          WHERE rtin = ? AND removed_at IS NULL
          GROUP BY section, stin, doc_no_key, fy HAVING count(*) > 1) g
      ON g.section = d.section AND g.stin IS NOT DISTINCT FROM d.stin
     AND g.doc_no_key = d.doc_no_key AND g.fy = d.fy"""
# what leaves IMS at filing: accepted, rejected, and no action (deemed accepted)
DECIDED = ("(r.portal_action IN ('A', 'R') OR (coalesce(r.portal_action, 'N') = 'N' "
           "AND coalesce(r.srcfilstatus, '') <> 'Not Filed'))")


# ---------------------------------------------------------------- RETTRACK


def portal_day(text) -> dt.date | None:
    """RETTRACK's 'DD-MM-YYYY' (dof) -> a date; None when missing or unreadable."""
    try:
        return dt.datetime.strptime(str(text).strip(), "%d-%m-%Y").date()
    except ValueError:
        return None


def read_filing(client, gstin: str, period: str) -> dict:
    """RETTRACK for one period's GSTR-3B -> {ret_period, status, filed_on, arn, mode}."""
    data = client.call("GET", RETURNS_PATH, gstin, {"action": "RETTRACK", "gstin": gstin,
                                                    "ret_period": period, "type": RETURN})
    listed = (data or {}).get("EFiledlist") or []
    entry = next((e for e in listed if isinstance(e, dict)
                  and str(e.get("rtntype", RETURN)).upper() == RETURN
                  and str(e.get("ret_prd", period)) == period), None)
    if entry is None:
        return {"ret_period": period, "status": "Not Filed"}
    return {"ret_period": period, "status": str(entry.get("status") or "Not Filed"),
            "filed_on": portal_day(entry.get("dof")), "arn": entry.get("arn"),
            "mode": entry.get("mof")}


def track_filings(client, gstin: str, actor: str = "worker",
                  today: dt.date | None = None) -> dict:
    """Ask RETTRACK about the last tax periods of `gstin`, store the answers, and keep in the
    store the records a filing took out of IMS -> {periods: {period: status}, kept}."""
    calendar = calendars([gstin])[gstin]
    last = calendar.last_period(today or business_today())
    periods = [step(last, calendar.frequency, -i) for i in range(PERIODS_ASKED)]
    entries = [read_filing(client, gstin, p) for p in periods]   # HTTP: no connection held
    with connect() as con, transaction(con):
        store_filings(con, gstin, entries, utc_now())
        kept = keep_removed_after_filing(con, gstin, actor)
    return {"periods": {e["ret_period"]: e["status"] for e in entries}, "kept": kept}


def track_filings_in_fetch(client, gstin: str, actor: str) -> dict:
    """`track_filings` for a fetch: an error the portal answers (a code: RETTRACK refused or
    not offered) is logged and reported, not fatal (the IMS fetch still runs; records it finds
    gone are turned back once the filing is known). No proper answer at all (HTTP 5xx after
    the retries, no connection) or a session to renew fails the fetch like any call."""
    try:
        return track_filings(client, gstin, actor)
    except ReauthenticationNeeded:
        raise
    except GstnError as exc:
        if not exc.error_cd:
            raise
        log.warning("RETTRACK for %s failed: %s", gstin, exc)
        return {"error": f"The GSTR-3B filing status could not be read: {exc}"}


# ---------------------------------------------------------------- keeping what left IMS


def _mark_filed(con, now: dt.datetime, actor: str) -> int:
    """The records in temp table `filed_out` (record_id, filed_period, removed_at) left IMS
    with their filed return: logged, marked, kept visible."""
    con.execute(f"""
        INSERT INTO action_log (logged_at, actor, rtin, record_id, kind, old_value, new_value,
                                note)
        SELECT ?, ?, r.rtin, r.record_id, 'filed', r.portal_action, r.portal_action,
               CASE WHEN coalesce(r.portal_action, 'N') = 'N'
                    THEN 'deemed accepted (no action), ' ELSE '' END
               || 'left IMS with the filed return: the GSTR-3B of return period '
               || {_period_words('x.filed_period')}
               || ' is filed; kept here with its history'
        FROM ims_records r JOIN filed_out x USING (record_id)""", [now, actor])
    count = con.execute("""
        UPDATE ims_records SET left_ims_at = coalesce(x.removed_at, ?),
               filed_period = x.filed_period, removed_at = NULL
        FROM filed_out x WHERE ims_records.record_id = x.record_id""", [now]).fetchall()[0][0]
    con.execute("DROP TABLE filed_out")
    return count


GROUP = ("section", "stin", "doc_no_key", "fy")


def skip_filed_occurrences(con, rtin: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Before an IMS fetch is matched: a document the portal lists twice is told apart by
    `occurrence` (its place in the portal's list). When one of the two leaves IMS with a filed
    return, the other moves up the list; its number is moved past the ones the left records
    keep, so it still matches its own row (not the left one's)."""
    held = query_frame(con, f"""
        {periods_with(LISTED_TWICE)}
        SELECT section, stin, doc_no_key, fy,
               list(occurrence ORDER BY occurrence) FILTER (WHERE left_ims_at IS NOT NULL
                   OR ({DECIDED} AND {COVERING} IS NOT NULL)) AS out,
               list(occurrence ORDER BY occurrence) FILTER (WHERE left_ims_at IS NOT NULL)
                   AS left_before,
               count(*) FILTER (WHERE left_ims_at IS NULL) AS in_ims
        FROM ims_records r {PERIODS_JOIN} WHERE r.rtin = ? AND r.removed_at IS NULL
          AND r.record_id IN ({LISTED_TWICE})   -- only the few listed twice are grouped
        GROUP BY section, stin, doc_no_key, fy
        HAVING count(*) > 1 AND count(*) FILTER (WHERE left_ims_at IS NOT NULL
                                                 OR ({DECIDED} AND {COVERING} IS NOT NULL)) > 0
        """, [rtin, rtin, rtin])
    if held.is_empty() or frame.is_empty():
        return frame
    listed = frame.group_by(GROUP).agg(pl.len().alias("listed"))
    # the A/R rows of a filed period count as gone only where the portal lists fewer now
    held = held.join(listed, on=list(GROUP), how="inner").with_columns(
        skip=pl.when(pl.col("listed") < pl.col("in_ims")).then(pl.col("out"))
        .otherwise(pl.col("left_before"))).filter(pl.col("skip").list.len() > 0)
    if held.is_empty():
        return frame
    moved = frame.join(held.select(*GROUP, "skip"), on=list(GROUP), how="left")
    past = [_past(row) for row in moved.select("occurrence", "skip").iter_rows(named=True)]
    return moved.with_columns(occurrence=pl.Series(past, dtype=pl.Int32)).drop("skip")


def _past(row: dict) -> int:
    occurrence = row["occurrence"]
    for taken in row["skip"] or ():
        if taken <= occurrence:
            occurrence += 1
    return occurrence


def keep_filed(con, rtin: str, now: dt.datetime, actor: str) -> int:
    """During an IMS fetch (temp table `fetch_gone` = the stored records the portal no longer
    lists): an accepted or rejected record that is gone, of a period whose GSTR-3B is filed,
    left IMS with that return -> how many. A record marked so that the portal lists again is
    back."""
    con.execute("UPDATE ims_records SET left_ims_at = NULL, filed_period = NULL "
                "WHERE rtin = ? AND left_ims_at IS NOT NULL AND removed_at IS NULL "
                "AND record_id NOT IN (SELECT record_id FROM fetch_gone)", [rtin])
    replace_temp_table(con, "filed_out", f"""
        {periods_with("SELECT record_id FROM fetch_gone")}
        SELECT r.record_id, {COVERING} AS filed_period, CAST(NULL AS TIMESTAMP) AS removed_at
        FROM ims_records r {PERIODS_JOIN}
        WHERE r.rtin = ? AND r.removed_at IS NULL AND r.left_ims_at IS NULL AND {DECIDED}
          AND r.record_id IN (SELECT record_id FROM fetch_gone)""", [rtin])
    con.execute("DELETE FROM filed_out WHERE filed_period IS NULL")
    return _mark_filed(con, now, actor)


def keep_removed_after_filing(con, rtin: str, actor: str) -> int:
    """Records an earlier fetch marked removed (gone on or after the day their period's
    GSTR-3B was filed, accepted or rejected) left IMS with that return: kept, visible."""
    replace_temp_table(con, "filed_out", f"""
        {periods_with("SELECT record_id FROM ims_records WHERE rtin = ? AND removed_at IS NOT NULL")}
        SELECT r.record_id, {COVERING} AS filed_period, r.removed_at
        FROM ims_records r {PERIODS_JOIN}
        WHERE r.rtin = ? AND r.removed_at IS NOT NULL AND {DECIDED}""",
                       [rtin, rtin])
    # the filing day starts at midnight in the business time zone (removed_at is UTC)
    ahead = int(dt.datetime.now(business_tz()).utcoffset().total_seconds() // 60)
    con.execute(f"""DELETE FROM filed_out x WHERE x.filed_period IS NULL
                    OR x.removed_at + INTERVAL '{ahead} minutes' < (SELECT f.filed_on
                                       FROM return_filings f
                                       WHERE f.gstin = ? AND f.ret_period = x.filed_period
                                         AND f.rtntype = '{RETURN}')""", [rtin])
    return _mark_filed(con, utc_now(), actor)


# ---------------------------------------------------------------- uploads


def filed_refusals(con, where: str, params: list,
                   refused: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Of the upload candidates (`where` = "FROM ims_records r WHERE ..."), those that left
    IMS with a filed GSTR-3B, or were accepted or rejected in a period whose GSTR-3B is filed
    (the portal took them out at filing) -> [(record_id, why)], none already in `refused`."""
    rows = con.execute(f"""
        {periods_with(f"SELECT r.record_id {where}")}
        SELECT r.record_id, r.rtin, coalesce(r.filed_period, {COVERING}) AS period
        FROM (SELECT r.* {where}) r {PERIODS_JOIN}
        WHERE r.left_ims_at IS NOT NULL OR ({DECIDED} AND {COVERING} IS NOT NULL)
        ORDER BY r.record_id""", [*params, *params]).fetchall()
    done = {record_id for record_id, _ in refused}
    rows = [r for r in rows if r[0] not in done]
    if not rows:
        return []
    calendar = {g: business_calendar(con, g) for g in {r[1] for r in rows}}
    out = []
    for record_id, rtin, period in rows:
        filing = calendar[rtin].filings.get(period)
        on = f" on {day_text(filing.filed_on)}" if filing and filing.filed_on else ""
        label = period_label(period, calendar[rtin].frequency)
        out.append((record_id, (f"Not sent: the GSTR-3B of {label} was filed{on}, so this "
                                "record has left the portal's IMS and can no longer be changed "
                                "there (it stays here with its history)")))
    return out
