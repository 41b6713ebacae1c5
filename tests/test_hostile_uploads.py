"""Hostile purchase uploads are refused before they are parsed, in bounded memory.

Before the caps, a 200 KB CSV that was one long header line took the app from 356 MB to
1.99 GB, a 1 MB one killed a process at 10 GB, and a 1 MB .xlsx whose sheet unpacks to 1 GB
reached 2.15 GB.
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
import zlib

import pytest
import xlsxwriter

from core.purchase.importing import read_purchase_documents, validate_purchase_file
from core.purchase.read import MAX_COLUMNS, MAX_LINE_BYTES, FileProblem
from tests.fixtures import ROOT, SAMPLES

MB = 1024 * 1024


def long_header_csv(size: int = MB) -> bytes:
    """One header line of `size` bytes: thousands of short column names."""
    cells = (f"c{i}" for i in range(size))
    line, total = [], 0
    for cell in cells:
        line.append(cell)
        total += len(cell) + 1
        if total >= size:
            break
    return (",".join(line) + "\n").encode()


def zip_bomb_xlsx(unpacked: int = 1024 * MB) -> bytes:
    """A workbook skeleton whose sheet part unpacks to `unpacked` bytes (about 1 MB packed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", '<workbook><sheets><sheet name="S" sheetId="1" '
                                         'r:id="rId1"/></sheets></workbook>')
        book.writestr("xl/_rels/workbook.xml.rels",
                      '<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/>'
                      "</Relationships>")
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b" " * MB
            for _ in range(unpacked // MB):
                sheet.write(block)
    return out.getvalue()


def lying_xlsx(real: int = 100 * MB, declared: int = 900 * 1024) -> bytes:
    """A real workbook (written by xlsxwriter) whose sheet really unpacks to `real` bytes of
    rows but whose zip directory, local header and CRC declare `declared` bytes: the
    declared-size checks pass, the reader (calamine) unpacks the whole stream (issue 29.3:
    2.7 GB for 100 MB)."""
    made = io.BytesIO()
    book = xlsxwriter.Workbook(made, {"in_memory": True})
    book.add_worksheet("S").write_row(0, 0, ["company_gstin", "supplier_gstin", "invoice_no"])
    book.close()
    row = "<row>" + "<c><v>1</v></c>" * 16 + "</row>"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(made.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for part in src.infolist():
            body = src.read(part.filename)
            if part.filename == "xl/worksheets/sheet1.xml":
                head, tail = body.decode().split("</sheetData>")
                sheet = (head + row * (real // len(row)) + "</sheetData>" + tail).encode()
                body = sheet
            dst.writestr(part.filename, body)
    data = bytearray(out.getvalue())
    name = b"xl/worksheets/sheet1.xml"
    crc = zlib.crc32(sheet[:declared]).to_bytes(4, "little")
    size = declared.to_bytes(4, "little")
    local = data.index(name) - 30
    data[local + 14:local + 18], data[local + 22:local + 26] = crc, size
    central = data.rindex(name) - 46
    data[central + 16:central + 20], data[central + 24:central + 28] = crc, size
    return bytes(data)


def test_a_line_longer_than_the_cap_is_refused_naming_it():
    data = b"company_gstin,supplier_gstin\n" + b"x" * (MAX_LINE_BYTES + 10) + b"\n"
    with pytest.raises(FileProblem, match="long.csv, line 2 of the file: the line is longer than") as info:
        validate_purchase_file(data, file_name="long.csv")
    assert info.value.line == 2                      # the header is line 1


def test_a_header_with_too_many_columns_is_refused():
    header = ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)).encode()
    with pytest.raises(FileProblem, match=f"the header has {MAX_COLUMNS + 1:,} columns"):
        validate_purchase_file(header + b"\n1,2\n", file_name="wide.csv")


def test_a_zip_bomb_workbook_is_refused_before_unpacking():
    data = zip_bomb_xlsx(64 * MB)
    assert len(data) < MB
    with pytest.raises(FileProblem, match="far more than a real workbook"):
        validate_purchase_file(data, file_name="bomb.xlsx")


def test_a_genuine_register_passes_the_caps():
    check = read_purchase_documents(SAMPLES / "purchase_register_sample.csv")
    assert check.ok and check.docs.height > 0


# VmHWM: the peak of this process's own address space (ru_maxrss would carry the forking
# pytest's size across exec and hide the import's growth late in a full run).
PEAK_SCRIPT = """
import json, sys
def vm_hwm_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
from core.purchase.importing import read_purchase_documents, validate_purchase_file
from core.purchase.read import FileProblem
import polars, duckdb, numpy  # what the app has loaded anyway
idle = vm_hwm_kb()
data = open(sys.argv[1], "rb").read()
try:
    validate_purchase_file(data, file_name=sys.argv[2])
    refused = ""
except FileProblem as problem:
    refused = str(problem)
peak = vm_hwm_kb()
print(json.dumps({"idle_kb": idle, "peak_kb": peak, "refused": refused}))
"""


@pytest.mark.parametrize("name, build", [("header.csv", long_header_csv),
                                         ("bomb.xlsx", zip_bomb_xlsx),
                                         ("lying.xlsx", lying_xlsx)])
def test_hostile_files_are_refused_in_bounded_memory(tmp_path, name, build):
    path = tmp_path / name
    path.write_bytes(build())
    assert path.stat().st_size <= 2.5 * MB
    run = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(path), name], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    seen = json.loads(run.stdout)
    assert seen["refused"].startswith(name)
    assert (seen["peak_kb"] - seen["idle_kb"]) / 1024 < 300
    if name == "lying.xlsx":
        assert "lies about its sizes" in seen["refused"], seen
        print(f"lying workbook: {path.stat().st_size / 1024:,.0f} KB, refused, peak memory "
              f"+{(seen['peak_kb'] - seen['idle_kb']) / 1024:,.0f} MB")
