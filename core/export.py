"""Spreadsheet-safe downloads: CSV and Excel bytes from a Polars (or pandas) frame.

A text cell that starts with `=`, `+`, `-`, `@`, tab or carriage return could run as a formula
when a spreadsheet opens the file, so it is written with a leading `'` (docs/interfaces.md).
Numbers stay numbers, and so does text that is a plain number (an amount read from a file as
"-12000" is written -12000: a spreadsheet reads it as the number it is); "-2+3" or "=1+2"
becomes "'-2+3" / "'=1+2".
"""
from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import polars as pl
import polars.selectors as cs
import xlsxwriter

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TRIGGER_RE = r"^[=+\-@\t\r]"
# a plain number ("-12000", "+5.50") is safe as it is: a spreadsheet reads it as a number
PLAIN_NUMBER_RE = r"^[+-]?\d+(\.\d+)?$"
BOM = "\ufeff".encode("utf-8")
EXCEL_MAX_ROWS = 1_048_576
SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value):
    """A value as it may go into a spreadsheet: text starting with a trigger gets a `'`."""
    if (isinstance(value, str) and value.startswith(TRIGGERS)
            and not re.fullmatch(PLAIN_NUMBER_RE, value)):
        return "'" + value
    return value


def as_polars(frame) -> pl.DataFrame:
    """Polars frames pass through; pandas frames are converted."""
    if isinstance(frame, pl.DataFrame):
        return frame
    return pl.from_pandas(frame)


def safe_names(names: list[str]) -> list[str]:
    """Column names made safe like cells (an uploaded file's headers reach the rejected-lines
    and problems CSVs), still unique."""
    out, seen = [], set()
    for name in names:
        safe = safe_cell(name)
        while safe in seen:
            safe += "_"
        seen.add(safe)
        out.append(safe)
    return out


def safe_frame(frame) -> pl.DataFrame:
    """Every text column and every column name made safe; nested columns written as text
    first."""
    df = as_polars(frame)
    df = df.rename(dict(zip(df.columns, safe_names(df.columns))))
    nested = [name for name, dtype in df.schema.items()
              if dtype.is_nested() or dtype in (pl.Object, pl.Binary)]
    if nested:   # str() of each value in Python: a Python function never runs inside Polars
        df = df.with_columns(pl.Series(name, [None if v is None else str(v) for v in df[name]],
                                       dtype=pl.Utf8) for name in nested)
    texts = [name for name, dtype in df.schema.items()
             if dtype in (pl.Categorical, pl.Enum) or dtype == pl.Utf8]
    if not texts:
        return df
    # one pass finds the text columns with a cell starting with a trigger (few, usually none);
    # only those are rewritten (a name, never a pattern: cs.by_name)
    found = df.select(cs.by_name(name).cast(pl.Utf8).str.contains(TRIGGER_RE).any()
                      for name in texts).row(0)
    exprs = []
    for name, hit in zip(texts, found):
        col = cs.by_name(name).cast(pl.Utf8)
        if hit:
            exprs.append(pl.when(col.str.contains(TRIGGER_RE)
                                 & ~col.str.contains(PLAIN_NUMBER_RE))
                         .then(pl.lit("'") + col)
                         .otherwise(col).alias(name))
        elif df.schema[name] != pl.Utf8:
            exprs.append(col.alias(name))
    return df.with_columns(exprs) if exprs else df


def to_csv_bytes(frame) -> bytes:
    """UTF-8 CSV with a byte-order mark (Excel then reads non-ASCII names right)."""
    return BOM + safe_frame(frame).write_csv(date_format="%Y-%m-%d").encode("utf-8")


def write_csv_file(frame, path) -> None:
    """to_csv_bytes(frame) written to `path`, by Polars straight into the file (no copy of the
    whole text in memory)."""
    with open(path, "wb") as out:
        out.write(BOM)
        safe_frame(frame).write_csv(out, date_format="%Y-%m-%d")


def _sheet_names(base: str, count: int) -> list[str]:
    base = SHEET_NAME_BAD.sub("_", base or "Sheet1")[:28] or "Sheet1"
    return [base if i == 0 else f"{base}_{i + 1}" for i in range(count)]


# Excel's own number formats with Indian grouping: 1,23,45,678.90 (crore, lakh, thousand)
INDIAN_AMOUNT = r'[>=10000000]##\,##\,##\,##0.00;[>=100000]##\,##\,##0.00;##,##0.00'
INDIAN_COUNT = r'[>=10000000]##\,##\,##\,##0;[>=100000]##\,##\,##0;##,##0'


def to_excel_bytes(frame, sheet_name: str = "Sheet1") -> bytes:
    """An .xlsx workbook; text is always written as text (never a formula, number or link).
    Frames longer than one sheet continue on `<name>_2`, `<name>_3`, ...: no row is dropped."""
    df = safe_frame(frame)
    per_sheet = EXCEL_MAX_ROWS - 1
    chunks = max(1, -(-df.height // per_sheet))
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "constant_memory": True,
                                     "strings_to_formulas": False, "strings_to_numbers": False,
                                     "strings_to_urls": False, "remove_timezone": True})
    formats = {"date": book.add_format({"num_format": "yyyy-mm-dd"}),
               "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
               "amount": book.add_format({"num_format": INDIAN_AMOUNT}),
               "count": book.add_format({"num_format": INDIAN_COUNT})}
    for i, name in enumerate(_sheet_names(sheet_name, chunks)):
        _write_sheet(book.add_worksheet(name), df.slice(i * per_sheet, per_sheet), formats)
    book.close()
    return buf.getvalue()


def _write_sheet(sheet, df: pl.DataFrame, formats: dict) -> None:
    for c, name in enumerate(df.columns):
        sheet.write_string(0, c, name)
    for r, row in enumerate(df.iter_rows(), start=1):
        for c, value in enumerate(row):
            _write_cell(sheet, r, c, value, formats)


def _write_cell(sheet, r: int, c: int, value, formats: dict) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(r, c, value)
    elif isinstance(value, int):
        sheet.write_number(r, c, value, formats["count"])
    elif isinstance(value, (float, Decimal)):
        sheet.write_number(r, c, float(value), formats["amount"])
    elif isinstance(value, dt.datetime):
        sheet.write_datetime(r, c, value, formats["datetime"])
    elif isinstance(value, dt.date):
        sheet.write_datetime(r, c, value, formats["date"])
    else:
        sheet.write_string(r, c, str(value))
