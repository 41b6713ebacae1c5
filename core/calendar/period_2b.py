"""A record's 2B period (docs/month-close.md, "A record's 2B period"): the GSTR-2B it counts in,
which is NOT its return period (`rtnprd`).

A document reaches the next GSTR-2B generated after its supplier files it (rule 60(7): the
2B of period M takes what is filed up to its cut-off, the 13th of M+1; a GSTR-1 or GSTR-1A of
September filed on 14 October lands in the October 2B), and a record kept pending past its
first 2B lands, once accepted, in the 2B open at that time. So, for one IMS record:

1. the period of a stored 2B that holds it (`gstr2b_documents`, `docdata` or `docRejdata`);
2. else its *first 2B period*: its tax period, moved to a later one when the record first
   appeared in IMS after that period's cut-off. IMS gives no filing date; a record shows in
   IMS when its supplier saves it, so its first fetch (`first_seen`) is never later than the
   filing, except for what was already there at the business's first fetch: those stay in
   their tax period (the earliest the filing can have been, the safe side for deadlines);
3. for a record kept pending, not earlier than the period open now: the one after the last
   tax period whose GSTR-3B is filed.

Quarterly (QRMP) filers count in quarters (a month rounds up to its quarter's last month).
The 2B cut-off taken here is the 13th of the next month; a 2B held back or generated on an
overridden day moves only what a stored 2B shows (point 1).

The rules are SQL expressions over an `ims_records` row aliased `r`, so that every query
that needs them (regeneration, the filed-period refusal, the pending limits, what leaves IMS
after a filing) computes the same period in the store.
"""
from __future__ import annotations

from core.store import int_or_null

CUT_OFF_DAYS = 13   # a filing on the 14th of M+1 or later misses the 2B of M
# IMS section -> the GSTR-2B section holding it
IMS_TO_2B = {"b2b": "b2b", "b2ba": "b2ba", "b2bcn": "cdnr", "b2bdn": "cdnr", "b2bcna": "cdnra",
             "b2bdna": "cdnra", "ecom": "ecom", "ecoma": "ecoma", "impg": "impg",
             "impga": "impg", "impgsez": "impgsez", "impgseza": "impgsez"}


def month_index(column: str) -> str:
    """SQL: a MMYYYY text -> months since year 0 (comparable, steppable)."""
    return (f"({int_or_null(f'right({column}, 4)')} * 12 "
            f"+ {int_or_null(f'left({column}, 2)')} - 1)")


def period_text(index: str) -> str:
    """SQL: months since year 0 -> MMYYYY."""
    return (f"(lpad(CAST(({index}) % 12 + 1 AS VARCHAR), 2, '0') "
            f"|| CAST(CAST((({index}) - ({index}) % 12) / 12 AS INTEGER) AS VARCHAR))")


def section_2b(alias: str = "r") -> str:
    whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in IMS_TO_2B.items())
    return f"CASE {alias}.section {whens} END"


def _quarter_end(index: str) -> str:
    """SQL over a row with boolean `q` (quarterly filer): a month index rounded up to its
    quarter's last month."""
    return f"(CASE WHEN q THEN ({index}) + 2 - ({index}) % 3 ELSE ({index}) END)"


def record_periods(still_listed: bool = False, within: str | None = None) -> str:
    """SQL: a subquery with one row per IMS record: `record_id`, `first_mi` (its first 2B
    period: a stored 2B holding it, else point 2) and `period_mi` (its 2B period, points
    1-3), as month indexes, and `period_2b` (MMYYYY). `still_listed`: a record still in IMS
    after its first period's GSTR-3B was filed was pending then (everything else left with
    the return), so it lands in the open 2B whatever it stands at now (for "2B needs
    regeneration", which looks at the portal as fetched). `within`: a subquery of the
    record_ids wanted (else every record's). Also `held_rejected`: how the latest stored 2B
    holding the record holds it (true: in its `docRejdata`; null: no stored 2B holds it), read
    in the same grouping of the stored documents (a second grouping and a six-key join less
    for "2B needs regeneration")."""
    only = f"WHERE i.record_id IN ({within})" if within else ""
    listed = " OR (left_ims_at IS NULL AND removed_at IS NULL)" if still_listed else ""
    seen_day = f"CAST(seen_day - INTERVAL '{CUT_OFF_DAYS} days' AS DATE)"
    return f"""(
        SELECT record_id, first_mi, period_mi, {period_text('period_mi')} AS period_2b,
               held_rejected
        FROM (
            SELECT record_id, held_rejected, coalesce(held, first_q) AS first_mi,
                   coalesce(held, CASE WHEN waiting THEN greatest(first_q,
                                                                  coalesce(open_q, first_q))
                                       ELSE first_q END) AS period_mi
            FROM (
                SELECT *, {_quarter_end('first_m')} AS first_q,
                       {_quarter_end('last_filed + 1')} AS open_q
                FROM (
                    SELECT r.record_id, r.held, r.held_rejected, r.waiting, r.last_filed, r.q,
                           greatest(r.own, coalesce(CASE WHEN r.seen_day > r.since
                               THEN CAST(extract(year FROM {seen_day}) AS INTEGER) * 12
                                    + CAST(extract(month FROM {seen_day}) AS INTEGER) - 1 END,
                               r.own)) AS first_m
                    FROM (
                        SELECT i.record_id, {month_index('i.rtnprd')} AS own,
                               CAST(i.first_seen AS DATE) AS seen_day, w.since,
                               coalesce(b.q, false) AS q, f.last_filed,
                               CAST((h.held_code - h.held_code % 2) / 2 AS INTEGER) AS held,
                               h.held_code % 2 = 1 AS held_rejected,
                               (coalesce(i.portal_action, 'N') = 'P'{listed})
                                   AS waiting
                        FROM ims_records i
                        LEFT JOIN (SELECT rtin, CAST(min(first_seen) AS DATE) AS since
                                   FROM ims_records GROUP BY rtin) w ON w.rtin = i.rtin
                        LEFT JOIN (SELECT gstin, coalesce(filing_frequency, 'monthly')
                                       = 'quarterly' AS q FROM businesses) b
                               ON b.gstin = i.rtin
                        LEFT JOIN (SELECT gstin, max({month_index('ret_period')}) AS last_filed
                                   FROM return_filings WHERE rtntype = 'GSTR3B'
                                     AND status = 'Filed' GROUP BY gstin) f
                               ON f.gstin = i.rtin
                        LEFT JOIN (SELECT gstin, section, stin, doc_type, doc_no_key,
                                          max({month_index('rtnprd')} * 2
                                              + CAST(rejected_in_ims AS INTEGER)) AS held_code
                                   FROM gstr2b_documents
                                   GROUP BY gstin, section, stin, doc_type, doc_no_key) h
                               ON h.gstin = i.rtin AND h.section = {section_2b('i')}
                              AND h.stin = i.stin AND h.doc_type = i.doc_type
                              AND h.doc_no_key = i.doc_no_key
                        {only}
                    ) r
                ) s
            ) t
        ) u)"""


def periods_with(within: str | None = None) -> str:
    """SQL: the WITH clause that opens a query using `periods_join`: the 2B periods of the
    records of `within` (a subquery of record_ids; else every record's) computed once
    (MATERIALIZED: a planner that misjudges the rows would otherwise compute them again for
    each row it joins). Its parameters come first in the query."""
    return f"WITH p2b AS MATERIALIZED {record_periods(within=within)}"


def periods_join(alias: str = "r") -> str:
    """SQL (in a query opened by `periods_with`): LEFT JOIN `p2b` = the 2B periods of the
    ims_records rows aliased `alias` (`p2b.period_mi`, `p2b.first_mi`, `p2b.period_2b`)."""
    return f"LEFT JOIN p2b ON p2b.record_id = {alias}.record_id"


def first_2b_period() -> str:
    """SQL over `periods_join`: the first 2B period (MMYYYY) of the record, what the pending
    limit of a credit note counts from."""
    return period_text("p2b.first_mi")
