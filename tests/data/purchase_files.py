"""Small purchase-register files for the purchase tests (written into tmp_path)."""
from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
STANDARD_SAMPLE = SAMPLES / "purchase_register_sample.csv"
TALLY_SAMPLE = SAMPLES / "purchase_register_tally_layout.csv"
COMPANY = "27AAACW1234K1ZD"
HEADER = ("company_gstin,supplier_gstin,supplier_name,doc_type,doc_no,doc_date,place_of_supply,"
          "reverse_charge,taxable_value,igst,cgst,sgst,cess,doc_value")
SAHYADRI = "27AABCS5678L1ZQ"
KAVERI = "29AAFCK4321M1ZA"


def line(doc_no="INV-1", date="2025-10-03", txval="1000", igst="0", cgst="90", sgst="90", cess="0",
         value="", stin=SAHYADRI, doc_type="INV", name="Sahyadri Steel", pos="27", rcm="N",
         company=COMPANY, sep=",") -> str:
    return sep.join([company, stin, name, doc_type, doc_no, date, pos, rcm, txval, igst, cgst, sgst, cess, value])


def write_csv(tmp_path: Path, name: str, lines: list[str], header: str = HEADER, encoding="utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(("\n".join([header, *lines]) + "\n").encode(encoding))
    return path


def many_lines(count: int, prefix: str = "SI") -> list[str]:
    return [line(doc_no=f"{prefix}-{i}", txval=str(1000 + i)) for i in range(1, count + 1)]
