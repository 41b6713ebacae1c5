"""Reading a purchase-register file (CSV or .xlsx) into a frame of strings.

Every cell comes back as text (Excel dates as ISO text or serial numbers); parsing and
validation happen later, vectorised, in `core.purchase.validate`. The frame gets a
`__line` column: the 1-based data line (the first line after the header is 1). The
header is looked for in the first few rows, so title rows above it (and merged group
cells in an Excel header) are skipped.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import polars.selectors as cs

from core.figures import count_words

LINE = "__line"
MAX_UPLOAD_BYTES = int(os.environ.get("IMS_PURCHASE_MAX_BYTES", str(1024 * 1024 * 1024)))  # 1 GB
MAX_ROWS = int(os.environ.get("IMS_PURCHASE_MAX_ROWS", "5000000"))
# Caps checked before a file is parsed, far above any genuine register (a register line is a
# few hundred bytes and a few dozen columns; an .xlsx sheet compresses about 5-20 times):
# a hostile upload is refused before it can take the app's memory.
MAX_LINE_BYTES = int(os.environ.get("IMS_PURCHASE_MAX_LINE_BYTES", str(64 * 1024)))
MAX_COLUMNS = int(os.environ.get("IMS_PURCHASE_MAX_COLUMNS", "500"))
MAX_XLSX_UNPACKED_BYTES = int(os.environ.get("IMS_PURCHASE_MAX_XLSX_UNPACKED",
                                             str(2 * 1024 * 1024 * 1024)))
MAX_XLSX_RATIO = 200          # unpacked / packed size of one workbook part
HEADER_SEARCH_ROWS = 10
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
# validate.CONTROL_CHARS as bytes (in UTF-8 these bytes stand only for themselves)
CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


class FileProblem(ValueError):
    """The file cannot be used at all (empty, no header, wrong delimiter, ...)."""

    def __init__(self, file: str, message: str, line: int | None = None, field: str | None = None):
        self.file, self.line, self.field, self.reason = file, line, field, message
        where = (file + (f", line {count_words(line)} of the file" if line else "")
                 + (f", field {field}" if field else ""))
        super().__init__(f"{where}: {message}")


@dataclass
class RawTable:
    """The data rows of a file as strings, with the header's place in the file."""
    frame: pl.DataFrame          # original header names + __line
    file: str                    # file name for messages
    header_row: int              # 1-based row of the header in the file / sheet
    kind: str                    # csv | xlsx
    sha256: str
    line_count: int              # data lines (blank lines included)
    control_chars: bool = True   # False: the file has none of validate.CONTROL_CHARS (a CSV
                                 # checked as bytes), so no field needs them dropped

    def file_row(self, line: int) -> int:
        return self.header_row + line


def load_source(source: str | Path | bytes, file_name: str | None = None) -> tuple[bytes, str]:
    """A path, or bytes with a file name (an upload), as (bytes, name)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), file_name or "upload.csv"
    path = Path(source)
    if not path.exists():
        raise FileProblem(str(source), "file not found")
    return path.read_bytes(), file_name or path.name


def read_table(data: bytes, name: str, header_score: Callable[[list[str]], int],
               sheet: str | None = None) -> RawTable:
    """Read CSV or xlsx bytes; `header_score(cells)` rates a candidate header row."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise FileProblem(name,
                          f"the file is {_size(len(data))}; the limit is "
                          f"{_size(MAX_UPLOAD_BYTES)}. "
                                "Split it into smaller files (e.g. one per month).")
    if not data[:4096].strip() and not data.strip():
        raise FileProblem(name, "the file is empty")
    sha = hashlib.sha256(data).hexdigest()
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data, name, header_score, sheet, sha)
    if name.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise FileProblem(name,
                          "this is not an .xlsx workbook (old .xls files: save as .xlsx or CSV)")
    return _read_csv(data, name, header_score, sha)


# ---------------------------------------------------------------- CSV

def decode_text(data: bytes) -> tuple[bytes, str]:
    """UTF-8 (BOM stripped) when valid, else Windows-1252; returns UTF-8 bytes and the encoding."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.isascii():   # no text made to know it (a register is mostly ASCII)
        return data, "utf-8"
    try:
        data.decode("utf-8")
        return data, "utf-8"
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        return text.encode("utf-8"), "windows-1252"


def _first_lines(data: bytes, count: int) -> list[str]:
    head = data[: 64 * 1024].decode("utf-8", errors="replace")
    return head.splitlines()[:count]


def detect_delimiter(lines: list[str]) -> str:
    """The delimiter (comma, semicolon, tab) that splits the first lines most consistently."""
    best, best_score = ",", -1
    for delim in DELIMITERS:
        counts = [len(next(csv.reader([ln], delimiter=delim), [])) for ln in lines if ln.strip()]
        if not counts:
            continue
        score = max(counts) * 10 + sum(c == counts[0] for c in counts)
        if max(counts) > 1 and score > best_score:
            best, best_score = delim, score
    return best


def _header_index(rows: list[list[str]], header_score: Callable[[list[str]], int]) -> int:
    scores = [header_score(r) for r in rows]
    best = max(range(len(scores)), key=lambda i: (scores[i], -i)) if scores else 0
    return best if scores and scores[best] > 0 else 0


def check_line_lengths(data: bytes, name: str, header_at: int = 0,
                       chunk: int = 1 << 24) -> None:
    """Refuse a file with a line longer than MAX_LINE_BYTES (counted in chunks, no copy).
    `header_at` is the 0-based line of the header, for the data line number in the message."""
    raw = np.frombuffer(data, np.uint8)
    last = -1
    for start in range(0, raw.size, chunk):
        ends = np.flatnonzero(raw[start:start + chunk] == 10) + start
        if ends.size == 0:
            longest, at = min(start + chunk, raw.size) - last - 1, last + 1
        else:
            gaps = np.diff(ends, prepend=last) - 1
            worst = int(gaps.argmax())
            longest, at = int(gaps[worst]), int(ends[worst] - gaps[worst])
            last = int(ends[-1])
        if longest > MAX_LINE_BYTES:
            _refuse_long_line(data, name, at, header_at)
    if raw.size - last - 1 > MAX_LINE_BYTES:
        _refuse_long_line(data, name, last + 1, header_at)


def _refuse_long_line(data: bytes, name: str, at: int, header_at: int) -> None:
    file_line = data.count(b"\n", 0, at)          # 0-based
    limit = _size(MAX_LINE_BYTES)
    if file_line <= header_at:
        raise FileProblem(name, f"line {count_words(file_line + 1)} of the file is longer than {limit}; "
                                "a purchase register's lines are far shorter. Is this the right "
                                "file?")
    raise FileProblem(name, f"the line is longer than {limit}; a purchase register's lines are "
                            "far shorter. Is this the right file?", line=file_line + 1)


def _check_column_count(name: str, header: list[str]) -> None:
    if len(header) > MAX_COLUMNS:
        raise FileProblem(name, f"the header has {count_words(len(header))} columns; the limit is "
                                f"{count_words(MAX_COLUMNS)}. Is this the right file?", line=None)


def _refuse_utf16(data: bytes, name: str) -> None:
    """A UTF-16 file (Excel's "Unicode text") is refused naming its encoding, not with a
    message about columns it seems to lack."""
    head = data[:4096]
    zeros_at_odd = head[1::2].count(0) if len(head) > 1 else 0
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (
            len(head) >= 8 and (zeros_at_odd > len(head) // 4 or head[0::2].count(0) > len(head) // 4)):
        raise FileProblem(name, "the file is saved as UTF-16 (\"Unicode text\"), which the "
                                "importer does not read. Save it as \"CSV UTF-8\" (Excel: Save "
                                "As, CSV UTF-8) and upload again.")


def _read_csv(data: bytes, name: str, header_score, sha: str) -> RawTable:
    _refuse_utf16(data, name)
    utf8, _encoding = decode_text(data)
    lines = _first_lines(utf8, HEADER_SEARCH_ROWS)
    if not utf8 or utf8.isspace() or not lines:   # e.g. nothing but a byte-order mark
        raise FileProblem(name, "the file is empty")
    delim = detect_delimiter(lines)
    rows = [next(csv.reader([ln], delimiter=delim), []) for ln in lines]
    for row in rows:
        _check_column_count(name, row)
    header_at = _header_index(rows, header_score)
    check_line_lengths(utf8, name, header_at)
    if len(rows[header_at]) < 2:
        _raise_one_column(name, lines[header_at])
    _check_data_delimiter(name, delim, rows[header_at + 1:], lines[header_at + 1:],
                          header_at + 2)
    frame = _polars_csv(utf8, name, delim, header_at)
    table = _finish(frame, name, header_at + 1, "csv", sha)
    table.control_chars = len(utf8.translate(None, CONTROL_BYTES)) != len(utf8)
    return table


def _raise_one_column(name: str, header_line: str) -> None:
    other = next((d for d in "|:^~" if d in header_line), None)
    hint = f" It looks separated by '{other}'." if other else ""
    raise FileProblem(name, "the header has a single column, so the delimiter is not a comma, "
                            f"semicolon or tab.{hint} Save the file as CSV with commas.", line=None)


def _check_data_delimiter(name: str, delim: str, rows: list[list[str]], lines: list[str],
                          first_line: int = 2) -> None:
    """A header split by one delimiter over data lines split by another (or none) is refused,
    naming the first data line (`first_line`, the file's own count)."""
    filled = [(r, ln) for r, ln in zip(rows, lines) if ln.strip()]
    if not filled or any(len(r) > 1 for r, _ in filled):
        return
    other = next((d for d in (*DELIMITERS, "|") if d != delim and d in filled[0][1]), None)
    seen = (f" they look separated by {DELIMITERS.get(other, repr(other))}" if other
            else " they hold one field each")
    raise FileProblem(name,
                      f"the header is separated by {DELIMITERS[delim]}s but the data lines are not:"
                            f"{seen}. Use one delimiter throughout.", line=first_line)


def _polars_csv(utf8: bytes, name: str, delim: str, header_at: int) -> pl.DataFrame:
    try:
        return pl.read_csv(utf8, separator=delim, infer_schema=False, skip_rows=header_at,
                           has_header=True, empty_string_is_null=False, raise_if_empty=False,
                           truncate_ragged_lines=False)
    except pl.exceptions.ComputeError as exc:
        if "more fields" in str(exc):
            _raise_ragged(utf8, name, delim, header_at)
        raise FileProblem(name, f"cannot be read as CSV: {str(exc).splitlines()[0]}") from exc


def _raise_ragged(utf8: bytes, name: str, delim: str, header_at: int) -> None:
    """Name the first data line with more fields than the header, as Polars counts them.

    Polars keeps a lone CR (not followed by LF) inside the value, while Python's csv module
    refuses it in an unquoted field; such CRs become spaces here (field counts unchanged).
    """
    text = re.sub(r"\r(?!\n)", " ", utf8.decode("utf-8"))
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    width, index = None, -1
    try:
        for index, row in enumerate(reader):
            if index < header_at:
                continue
            if width is None:
                width = len(row)
            elif len(row) > width:
                raise FileProblem(name, f"has {len(row)} fields where the header has {width} "
                                        "(an unquoted delimiter inside a value?)",
                                  line=index + 1)     # the file's own line (header: 1)
    except csv.Error as exc:
        raise FileProblem(name, f"cannot be read as CSV: {exc}",
                          line=max(index + 2, header_at + 2)) from exc
    raise FileProblem(name, "has lines with more fields than the header")


def _size(count: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


def _finish(frame: pl.DataFrame, name: str, header_row: int, kind: str, sha: str) -> RawTable:
    if frame.height > MAX_ROWS:
        raise FileProblem(name, f"has {count_words(frame.height)} data rows; the limit is {count_words(MAX_ROWS)} rows. "
                                "Split it into smaller files.")
    if LINE in frame.columns:
        raise FileProblem(name, f"a column is named '{LINE}', a name the importer keeps for "
                                "the line numbers: rename that column (or remove it) and upload "
                                "again.")
    frame = frame.with_row_index(LINE, offset=1).with_columns(pl.col(LINE).cast(pl.Int64))
    value_cols = [c for c in frame.columns if c != LINE]
    if not value_cols:
        raise FileProblem(name, "has no columns")
    line_count = frame.height
    # by_name: a header is a name, never a pattern ("*" or "^...$" are Polars' wildcards)
    blank = pl.all_horizontal(cs.by_name(c).is_null() | (cs.by_name(c).str.strip_chars() == "")
                              for c in value_cols)
    frame = frame.filter(~blank)
    if frame.height == 0:
        raise FileProblem(name, "has a header but no data lines")
    return RawTable(frame, name, header_row, kind, sha, line_count)


# ---------------------------------------------------------------- xlsx

def _read_xlsx(data: bytes, name: str, header_score, sheet: str | None, sha: str) -> RawTable:
    sheet_xml = _sheet_xml(data, name, sheet)
    _check_formula_values(sheet_xml, name)
    try:
        grid = pl.read_excel(io.BytesIO(data), engine="calamine", sheet_name=sheet,
                             has_header=False,
                             drop_empty_rows=False, drop_empty_cols=False, infer_schema_length=0,
                             raise_if_empty=False)
    except Exception as exc:  # calamine raises its own error types
        raise FileProblem(name, f"cannot be read as an Excel workbook: {exc}") from exc
    if grid.height == 0:
        raise FileProblem(name, "the sheet is empty")
    top = [[("" if v is None else str(v)) for v in row]
           for row in grid.head(HEADER_SEARCH_ROWS).rows()]
    header_at = _header_index(top, header_score)
    names = _header_names(top[header_at])
    frame = grid.slice(header_at + 1).rename(dict(zip(grid.columns, names)))
    frame = frame.select([c for c in frame.columns if not c.startswith("__blank")])
    return _finish(frame, name, header_at + 1, "xlsx", sha)


def _header_names(cells: list[str]) -> list[str]:
    names, seen = [], set()
    for i, cell in enumerate(cells):
        label = cell.strip() or f"__blank{i}"
        while label in seen:
            label += "_"
        seen.add(label)
        names.append(label)
    return names


def _sheet_xml(data: bytes, name: str, sheet: str | None) -> str:
    """The XML of the sheet (to see formulas); raises a clear error for a missing sheet."""
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        check_unpacked_size(book, name, data)
        workbook = book.read("xl/workbook.xml").decode("utf-8", errors="replace")
        rels = book.read("xl/_rels/workbook.xml.rels").decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, KeyError) as exc:
        raise FileProblem(name, "is not a valid .xlsx workbook") from exc
    sheets = re.findall(r'<(?:\w+:)?sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"', workbook)
    if not sheets:
        raise FileProblem(name, "the workbook has no sheets")
    chosen = sheets[0] if sheet is None else next((s for s in sheets if s[0] == sheet), None)
    if chosen is None:
        raise FileProblem(name,
                          f"has no sheet named '{sheet}' (sheets: "
                          f"{', '.join(s[0] for s in sheets)})")
    target = re.search(rf'Id="{re.escape(chosen[1])}"[^>]*Target="([^"]*)"', rels) or \
        re.search(rf'Target="([^"]*)"[^>]*Id="{re.escape(chosen[1])}"', rels)
    path = target.group(1).lstrip("/") if target else ""
    path = path if path.startswith("xl/") else f"xl/{path}"
    try:
        return book.read(path).decode("utf-8", errors="replace")
    except KeyError:
        return ""


def check_unpacked_size(book: zipfile.ZipFile, name: str, data: bytes | None = None) -> None:
    """Refuse a workbook whose parts unpack to more than the caps (a "zip bomb"), before any
    reader sees it: first from the sizes the archive declares, then by MEASURING what each part
    really unpacks to (`data`: the archive's bytes), streamed in 1 MB pieces and stopped as soon
    as a part unpacks to more than it declares: the readers (calamine) unpack the whole stream
    whatever the directory says, so a workbook that lies about its sizes is refused in words."""
    parts = book.infolist()
    unpacked = sum(p.file_size for p in parts)
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise FileProblem(name, f"unpacks to {_size(unpacked)}; the limit is "
                                f"{_size(MAX_XLSX_UNPACKED_BYTES)}. Save it as CSV, or split it.")
    for part in parts:
        if part.file_size > 1 << 20 and part.file_size > MAX_XLSX_RATIO * max(part.compress_size, 1):
            raise FileProblem(name, f"part {part.filename} unpacks to {_size(part.file_size)} from "
                                    f"{_size(part.compress_size)}, far more than a real workbook; "
                                    "it is refused as unsafe.")
    if data is not None:
        for part in parts:
            real = measured_size(data, part, name)
            if real != part.file_size:
                raise FileProblem(name, f"part {part.filename} says it unpacks to "
                                        f"{_size(part.file_size)} but really unpacks to "
                                        f"{'more than ' if real > part.file_size else ''}"
                                        f"{_size(real)}: the workbook lies about its sizes and "
                                        "is refused as unsafe. Save it again from Excel, or as "
                                        "CSV.")


UNPACK_PIECE = 1 << 20


def measured_size(data: bytes, part: zipfile.ZipInfo, name: str) -> int:
    """The bytes `part` really unpacks to, counted by stream-decompressing its raw data in
    pieces of at most 1 MB; counting stops one piece past the size it declares."""
    view = memoryview(data)
    at = part.header_offset
    if view[at:at + 4].tobytes() != b"PK\x03\x04":
        raise FileProblem(name, "is not a valid .xlsx workbook (a damaged part)")
    start = at + 30 + int.from_bytes(view[at + 26:at + 28], "little") + \
        int.from_bytes(view[at + 28:at + 30], "little")
    raw = view[start:start + part.compress_size]
    if part.flag_bits & 0x1:
        raise FileProblem(name, "is an encrypted workbook: save it without a password")
    if part.compress_type == zipfile.ZIP_STORED:
        return len(raw)
    if part.compress_type != zipfile.ZIP_DEFLATED:
        raise FileProblem(name, f"part {part.filename} is packed in a way Excel does not use; "
                                "save the workbook again from Excel, or as CSV.")
    unpacker = zlib.decompressobj(-zlib.MAX_WBITS)
    real = 0
    try:
        for offset in range(0, len(raw), UNPACK_PIECE):
            piece = raw[offset:offset + UNPACK_PIECE]
            while piece and not unpacker.eof:
                real += len(unpacker.decompress(piece, UNPACK_PIECE))
                if real > part.file_size:
                    return real
                piece = unpacker.unconsumed_tail
            if unpacker.eof:
                break
        real += len(unpacker.flush(UNPACK_PIECE))
    except zlib.error as exc:
        raise FileProblem(name, f"part {part.filename} is damaged (it does not unpack)") from exc
    return real


_FORMULA_NO_VALUE = re.compile(r'<c r="([A-Z]+[0-9]+)"[^>]*>\s*<f\b[^>]*(?:/>|>[^<]*</f>)\s*'
                               r'(?:<v\s*/>|<v></v>)?\s*</c>')


def _check_formula_values(sheet_xml: str, name: str) -> None:
    """Formulas are read by their saved results; a formula never calculated has none."""
    if "<f" not in sheet_xml:
        return
    missing = _FORMULA_NO_VALUE.findall(sheet_xml)
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        cells = ", ".join(missing[:5]) + more
        raise FileProblem(name, f"cell {cells} holds a formula with no saved result (the file was "
                                "written by a program that does not calculate). Open it in Excel "
                                "or LibreOffice, save it, and upload again.", field=missing[0])
