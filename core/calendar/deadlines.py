"""The month's calendar of one business, worked out from dates alone (docs/month-close.md).

A tax period is named by its return period `MMYYYY`: the month itself for a monthly filer, the
quarter's last month for a quarterly (QRMP) filer (`122025` = October-December 2025).

- GSTR-2B of a period is generated on the 14th of the month after it, unless the previous
  period's GSTR-3B is not filed by then: then on the day that return is filed.
- GSTR-3B is due on the 20th of the next month (monthly), or on the 22nd / 24th of the month
  after the quarter (quarterly; which one by the business's state: rule 61 as substituted by
  notification 82/2020-CT; Ladakh, 38, is in the 24th-day group).
- A credit note (or downward amendment) may stay pending until the GSTR-3B due date of the tax
  period after the one whose 2B it first appeared in; an invoice or debit note until
  30 November after the end of its financial year, or the filing of that year's annual
  return if earlier (section 16(4)); and since a record accepted later lands in the 2B then
  open, its last real chance is the last GSTR-3B filed by that day (`last_chance`).
- Every 2B and 3B date can be overridden per period (`Calendar.overrides`).

No store, no clock: the caller passes the business's settings, its filings and `today`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from core.periods import MONTHS, PeriodError, add_months, month_of, period_of

MONTHLY, QUARTERLY = "monthly", "quarterly"
FREQUENCIES = {MONTHLY: "Monthly", QUARTERLY: "Quarterly (QRMP)"}
GSTR2B, GSTR3B = "gstr2b", "gstr3b"
EVENTS = {GSTR2B: "GSTR-2B generated on", GSTR3B: "GSTR-3B due on"}
# Quarterly GSTR-3B on the 22nd in these states and union territories, else on the 24th.
# Rule 61 (notification 82/2020-CT): Ladakh (38) is NOT in this group.
DAY_22_STATES = frozenset({"22", "23", "24", "27", "29", "30", "32", "33", "36", "37",
                           "26", "31", "34", "35"})
GSTR2B_DAY, MONTHLY_3B_DAY = 14, 20


# ---------------------------------------------------------------- periods


def checked_frequency(value: str) -> str:
    text = str(value or "").strip().lower()
    if text not in FREQUENCIES:
        raise PeriodError(f"Filing frequency '{value}' is not one of {', '.join(FREQUENCIES)}")
    return text


def tax_period(month_period: str, frequency: str) -> str:
    """The tax period a month belongs to: itself (monthly) or its quarter's last month."""
    year, month = month_of(month_period)
    if frequency == QUARTERLY:
        month = (month + 2) // 3 * 3
    return period_of(year, month)


def period_containing(day: dt.date, frequency: str) -> str:
    return tax_period(period_of(day.year, day.month), frequency)


def step(period: str, frequency: str, count: int = 1) -> str:
    """The tax period `count` periods after (negative: before) `period`."""
    year, month = month_of(tax_period(period, frequency))
    return period_of(*add_months(year, month, count * (3 if frequency == QUARTERLY else 1)))


def period_label(period: str, frequency: str = MONTHLY) -> str:
    """'112025' -> 'Nov 2025'; a quarter -> 'Oct-Dec 2025'."""
    year, month = month_of(period)
    if frequency != QUARTERLY:
        return f"{MONTHS[month - 1]} {year}"
    first = add_months(year, month, -2)[1]
    return f"{MONTHS[first - 1]}-{MONTHS[month - 1]} {year}"


def after_period(period: str, day: int) -> dt.date:
    """`day` of the month after the period's last month."""
    year, month = add_months(*month_of(period), 1)
    return dt.date(year, month, day)


def section_16_4_limit(fy: str, annual_return_filed_on: dt.date | None = None) -> dt.date:
    """Section 16(4): 30 November after the financial year '2025-26' ends, or the day that
    year's annual return is filed, if earlier."""
    try:
        start = int(str(fy)[:4])
    except ValueError:
        raise PeriodError(f"Financial year '{fy}' is not like 2025-26") from None
    limit = dt.date(start + 1, 11, 30)
    if annual_return_filed_on is not None and annual_return_filed_on < limit:
        return annual_return_filed_on
    return limit


def day_text(day: dt.date) -> str:
    """'20 Dec 2025'."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def relative_text(day: dt.date, today: dt.date) -> str:
    """'in 5 days', 'today', 'tomorrow', 'yesterday', '3 days ago'."""
    gap = (day - today).days
    return {0: "today", 1: "tomorrow", -1: "yesterday"}.get(gap) or (
        f"in {gap} days" if gap > 0 else f"{-gap} days ago")


def days_text(day: dt.date | None, today: dt.date) -> str:
    """'20 Dec 2025 (in 5 days)'; '' when unknown."""
    return "" if day is None else f"{day_text(day)} ({relative_text(day, today)})"


# ---------------------------------------------------------------- one business


@dataclass(frozen=True)
class Filing:
    """A GSTR-3B as RETTRACK reported it."""
    filed: bool
    filed_on: dt.date | None = None
    arn: str | None = None


@dataclass(frozen=True)
class Dated:
    """One event of the calendar: its period, its date (None: not known yet) and a note."""
    period: str
    label: str
    day: dt.date | None
    note: str = ""
    overridden: bool = False


@dataclass
class Calendar:
    """The dates of one business. `overrides`: {(period, GSTR2B|GSTR3B): date};
    `filings`: {period: Filing} for the periods RETTRACK was asked about (absent = unknown,
    taken as filed on time)."""
    frequency: str = MONTHLY
    state_code: str = "27"
    overrides: dict[tuple[str, str], dt.date] = field(default_factory=dict)
    filings: dict[str, Filing] = field(default_factory=dict)

    def label(self, period: str) -> str:
        return period_label(period, self.frequency)

    def filing(self, period: str) -> Filing | None:
        """The period's GSTR-3B as RETTRACK said; returns are filed in order, so a later
        period filed means this one is too (date unknown). None: not asked yet."""
        own = self.filings.get(period)
        if own is not None and own.filed:
            return own
        key = month_of(period)
        if any(f.filed and month_of(p) > key for p, f in self.filings.items()):
            return Filing(True)
        return own

    def quarterly_day(self) -> int:
        return 22 if self.state_code in DAY_22_STATES else 24

    def gstr3b_due(self, period: str) -> Dated:
        period = tax_period(period, self.frequency)
        fixed = self.overrides.get((period, GSTR3B))
        day = after_period(period, MONTHLY_3B_DAY if self.frequency == MONTHLY
                           else self.quarterly_day())
        return Dated(period, self.label(period), fixed or day,
                     f"overridden; computed {day_text(day)}" if fixed else "", fixed is not None)

    def gstr2b_date(self, period: str, today: dt.date) -> Dated:
        """When the period's 2B is (or was) generated; `day` None while it waits."""
        period = tax_period(period, self.frequency)
        label, base = self.label(period), after_period(period, GSTR2B_DAY)
        fixed = self.overrides.get((period, GSTR2B))
        if fixed:
            return Dated(period, label, fixed, f"overridden; computed {day_text(base)}", True)
        previous = step(period, self.frequency, -1)
        before = self.filing(previous)
        prev_text = f"the GSTR-3B of {self.label(previous)}"
        if before is None or (before.filed and (before.filed_on is None
                                                or before.filed_on <= base)):
            return Dated(period, label, base)
        if before.filed:
            return Dated(period, label, before.filed_on,
                         f"late: generated when {prev_text} was filed")
        if today < base:
            return Dated(period, label, base, f"only if {prev_text} is filed by then")
        return Dated(period, label, None, f"waits for {prev_text} (not filed yet)")

    def next_2b(self, today: dt.date) -> Dated:
        """The 2B still to come: the last period's (if not generated yet), else this one's."""
        current = period_containing(today, self.frequency)
        last = self.gstr2b_date(step(current, self.frequency, -1), today)
        if last.day is None or last.day >= today:
            return last
        return self.gstr2b_date(current, today)

    def last_period(self, today: dt.date) -> str:
        """The last tax period that has ended."""
        return step(period_containing(today, self.frequency), self.frequency, -1)

    def next_3b(self, today: dt.date) -> Dated:
        """The GSTR-3B to file next: an older one known not filed, else the last period's
        until it is filed, then this one's."""
        last = self.last_period(today)
        for back in (2, 1):   # an older return known not filed comes first (overdue)
            older = step(last, self.frequency, -back)
            if self.filing(older) is not None and not self.filing(older).filed:
                return self.gstr3b_due(older)
        due, filing = self.gstr3b_due(last), self.filing(last)
        # not asked yet: taken as filed once its due date has passed
        done = filing.filed if filing is not None else due.day < today
        return self.gstr3b_due(step(last, self.frequency, 1)) if done else due

    def last_chance(self, limit: dt.date) -> Dated:
        """The last GSTR-3B due by `limit` (the section 16(4) date): an invoice kept pending
        must be accepted before that return is filed, since a record accepted later lands in
        the 2B then open (monthly: October's, due 20 November; quarterly: July-September's)."""
        period = period_containing(limit, self.frequency)
        while self.gstr3b_due(period).day > limit:
            period = step(period, self.frequency, -1)
        return self.gstr3b_due(period)

    def credit_note_limit(self, period_2b: str) -> dt.date:
        """How long a credit note whose first 2B is that of `period_2b` (its 2B period, not
        its return period: core.calendar.period_2b) may stay pending: the GSTR-3B due date of
        the next tax period."""
        return self.gstr3b_due(step(tax_period(period_2b, self.frequency), self.frequency,
                                    1)).day
