"""A supplier's name beside its GSTIN, for charts, grids and downloads (docs/interfaces.md).

Per business and supplier GSTIN the name comes from the supplier master of its company
(`suppliers`, docs/suppliers.md: the trade name, else the legal name), else from the purchase
register (`supplier_name` as
the books write it), else from the stored GSTR-2B (`trdnm`, the trade name the supplier
filed under, core/gstr2b/store.py), else, for import of goods (whose "supplier" is the port
code), "Import of goods (port INNSA1)". A label is never empty: a GSTIN nobody named reads
"27AAB... · name not in books or 2B".
"""
from __future__ import annotations

from core.gstin import GSTIN_RE
from core.store import connect, earliest

NOT_NAMED = "name not in books or 2B"

# (rtin, stin, supplier_name): the books' name first, the 2B's trade name second
NAMES_SQL = f"""
    SELECT rtin, stin, {earliest('supplier_name', 'source')} AS supplier_name FROM (
        SELECT rtin, stin, max(trim(supplier_name)) AS supplier_name, 1 AS source
        FROM purchase_docs WHERE nullif(trim(supplier_name), '') IS NOT NULL GROUP BY rtin, stin
        UNION ALL
        SELECT gstin, stin, max(trim(trdnm)), 2
        FROM gstr2b_documents WHERE nullif(trim(trdnm), '') IS NOT NULL GROUP BY gstin, stin
    ) named
    GROUP BY rtin, stin"""


def is_port_code(stin: str | None) -> bool:
    """Import of goods carries the port code (e.g. INNSA1) where a supplier GSTIN would be."""
    return bool(stin) and not GSTIN_RE.match(str(stin).strip().upper())


def import_name(port: str) -> str:
    return f"Import of goods (port {port})"


def import_name_sql(port_column: str) -> str:
    """The same name in SQL, for a query's column of port codes."""
    return f"'Import of goods (port ' || {port_column} || ')'"


def supplier_names(gstin: str | list[str], stins: list[str] | None = None) -> dict[str, str]:
    """{supplier GSTIN: name} for the business(es) `gstin` (all suppliers the books or the 2B
    name, or just `stins`, each of which then gets a name or is left out when nobody named it
    and it is not a port). With several businesses a supplier takes the first name found."""
    gstins = [gstin] if isinstance(gstin, str) else list(gstin)
    with connect(read_only=True) as con:
        rows = con.execute(f"SELECT stin, supplier_name FROM ({NAMES_SQL}) names "
                           "WHERE list_contains(?::VARCHAR[], rtin) ORDER BY rtin, stin",
                           [gstins]).fetchall()
    names = master_names(gstins)        # the supplier master's name first
    for stin, name in rows:
        names.setdefault(stin, name)
    for stin in stins or []:
        if stin not in names and is_port_code(stin):
            names[stin] = import_name(stin)
    return names if stins is None else {s: names[s] for s in stins if s in names}


def supplier_label(stin: str, names: dict[str, str]) -> str:
    """'Sahyadri Steels · 27AABCS5678L1ZQ' (a port: 'Import of goods (port INNSA1)')."""
    if is_port_code(stin):
        return names.get(stin) or import_name(stin)
    return f"{names.get(stin) or NOT_NAMED} · {stin}"


def supplier_labels(gstin: str | list[str], stins: list[str]) -> dict[str, str]:
    """{supplier GSTIN: label} for each of `stins` (never an empty label)."""
    names = supplier_names(gstin, stins)
    return {s: supplier_label(s, names) for s in stins}


# the supplier master (docs/suppliers.md): its trade name, else its legal name
MASTER_SQL = """
    SELECT stin, coalesce(nullif(trim(trade_name), ''), nullif(trim(legal_name), ''))
    FROM suppliers WHERE company_pan IN ({marks})
      AND coalesce(nullif(trim(trade_name), ''), nullif(trim(legal_name), '')) IS NOT NULL
    ORDER BY company_pan, stin"""


def master_names(gstins: list[str]) -> dict[str, str]:
    """{supplier GSTIN: name} from the supplier master of the companies (PANs) of `gstins`."""
    companies = sorted({g[2:12] for g in gstins})
    if not companies:
        return {}
    with connect(read_only=True) as con:
        rows = con.execute(MASTER_SQL.format(marks=", ".join("?" for _ in companies)),
                           companies).fetchall()
    names: dict[str, str] = {}
    for stin, name in rows:
        names.setdefault(stin, name)
    return names
