"""Money: rupees in the store (DECIMAL(18,2)), integer paise inside reconciliation and in the
portal's checks. The one place they are converted, in Python, Polars and SQL."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import polars as pl

from core.figures import indian


def to_paise(rupees) -> int:
    """Rupees (str, float, Decimal) -> integer paise, half-up; blank -> 0."""
    if rupees is None or rupees == "":
        return 0
    return int((Decimal(str(rupees)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def paise_to_rupees(paise: int) -> Decimal:
    return (Decimal(int(paise)) / 100).quantize(Decimal("0.01"))


def indian_amount(paise: int) -> str:
    """12345678 paise -> '1,23,456.78' (Indian grouping)."""
    return indian(Decimal(int(paise)) / 100)


def paise_expr(column: str, scale: int = 100) -> pl.Expr:
    """Polars: an amount column (rupees with scale 100; paise with scale 1) as Int64 paise."""
    return (pl.col(column).cast(pl.Float64) * scale).round(0).cast(pl.Int64)


def paise_text(paise: pl.Expr) -> pl.Expr:
    """Polars: paise -> '450.00' (without sign), for messages and files."""
    whole = (paise.abs() // 100).cast(pl.Utf8)
    cents = (paise.abs() % 100).cast(pl.Utf8).str.pad_start(2, "0")
    return pl.concat_str([whole, pl.lit("."), cents])


def rupees_expr(paise: pl.Expr) -> pl.Expr:
    """Polars: integer paise -> rupees as Decimal(18, 2), exactly (`rupees_sql` in Polars)."""
    return (paise.cast(pl.Decimal(20, 2)) / 100).cast(pl.Decimal(18, 2))


def paise_sql(column: str, table: str = "") -> str:
    """SQL: a rupee column as BIGINT paise, without sign, 0 when null (named as the column)."""
    return f"CAST(abs(coalesce({table}{column}, 0)) * 100 AS BIGINT) AS {column}"


def rupees_sql(column: str) -> str:
    """SQL: a paise column as rupees, DECIMAL(18,2)."""
    return f"(CAST({column} AS DECIMAL(18,0)) * CAST(0.01 AS DECIMAL(3,2)))::DECIMAL(18,2)"
