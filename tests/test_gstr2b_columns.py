"""GSTR-2B read by columns (core/portal/payload/gstr2b.py) gives the frame of the
record-by-record reading (`flatten_2b` + `rows_frame`, the reference) on generated 2B data of
every section, whole and file by file as the portal serves a large 2B; a bad value in any
file is refused with the reference's message (section, record, field)."""
from __future__ import annotations

import copy

import pytest
from polars.testing import assert_frame_equal

from core.portal.payload import PayloadError, merge_2b_files
from core.portal.payload.gstr2b import (
    FAST_SECTIONS,
    SECTIONS,
    _fast_frame,
    flatten_2b,
    read_2b_file,
    read_2b_file_apart,
    read_2b_files,
    read_2b_frame,
    rows_frame,
)
from sandbox.gstr2b import Gstr2bBook, grouped
from sandbox.state import Portal

G = "27AAACW1234K1ZD"
PER_FILE = 150
IMPORT_AMENDMENTS = {"impg": "impga", "impgsez": "impgseza"}


@pytest.fixture(scope="module")
def entries() -> list:
    """The sandbox's 2B of October 2025 (about 1,100 documents), plus amended imports (the
    sandbox makes none) and a rule 37A reversal of every section that has one."""
    made = Gstr2bBook(Portal(7, 2000, gstins=[G])).build(G, "102025")["entries"]
    extra = []
    for block, section, stin, group, doc in made:
        if section in IMPORT_AMENDMENTS and \
                sum(e[1] == IMPORT_AMENDMENTS[section] for e in extra) < 3:
            extra.append((block, IMPORT_AMENDMENTS[section], stin, group,
                          {**doc, "boenum": f"A{doc['boenum']}", "oboenum": doc["boenum"],
                           "oboedt": doc["boedt"]}))
    reversals = [e for e in made if e[1].startswith("itcrev_")]
    plain = {e[1]: e for e in made if e[0] == "docdata"}
    for name in ("b2ba", "cdnr", "ecom"):
        block, _, stin, group, doc = plain[name]
        extra.append((block, f"itcrev_{name}", stin, group, dict(doc)))
    found = made + extra
    assert {e[1] for e in found} >= set(SECTIONS) - {"itcrev_cdnra", "itcrev_ecoma"}
    assert reversals and {e[0] for e in found} == {"docdata", "docRejdata"}
    return found


def shaped(entries: list) -> dict:
    """grouped(), with the amended imports in the shape of their sections (the sandbox's
    grouping knows the imports it makes: impg flat, impgsez under `boe`)."""
    blocks = grouped(entries)
    data = blocks["docdata"]
    if "impga" in data:
        data["impga"] = [doc for group in data["impga"] for doc in group["inv"]]
    for group in data.get("impgseza", []):
        group["boe"] = group.pop("inv")
    return blocks


def document(entries: list) -> dict:
    return {"gstin": G, "rtnprd": "102025", "version": 1, "gendt": "14-11-2025",
            **shaped(entries)}


def files(entries: list) -> tuple[dict, list[dict]]:
    """The first answer and the files of the 2B, as the sandbox splits a large one."""
    head = {"gstin": G, "rtnprd": "102025", "version": 1, "gendt": "14-11-2025", "fc": 1}
    parts = [{**head, **shaped(entries[at:at + PER_FILE])}
             for at in range(0, len(entries), PER_FILE)]
    return {**head, "fc": len(parts)}, parts


def reference(data: dict):
    head, rows = flatten_2b({"data": data})
    return head, rows_frame(rows)


def test_every_section_reads_the_same_by_columns_as_record_by_record(entries):
    data = document(entries)
    assert _fast_frame(data) is not None   # clean: the plain sections are read by columns
    head, frame = read_2b_frame({"data": data})
    ref_head, ref = reference(data)
    assert head == ref_head
    assert_frame_equal(frame, ref)
    assert set(frame["section"]) == {e[1] for e in entries}
    assert frame["rejected_in_ims"].any() and frame.height == len(entries)


def test_a_large_2b_read_file_by_file_is_the_whole_one(entries):
    first, parts = files(entries)
    assert len(parts) > 5
    raws = [read_2b_file(p) for p in parts]
    assert all(r is not None for r in raws)   # every file read by columns as it came
    head, frame = read_2b_files(first, parts, raws)
    ref_head, ref = reference(merge_2b_files(first, parts))   # what fetch_2b gives
    assert head == ref_head
    assert_frame_equal(frame, ref)
    whole = reference(document(entries))[1]   # the same documents, grouped otherwise
    assert_frame_equal(frame.drop("line").sort(frame.columns[:-1]),
                       whole.drop("line").sort(frame.columns[:-1]))
    # the documents of a section are numbered on across files, as in the whole document
    b2b = frame.filter(frame["section"] == "b2b")
    assert b2b.filter(~b2b["rejected_in_ims"])["line"].to_list() == \
        list(range(1, (~b2b["rejected_in_ims"]).sum() + 1))


@pytest.mark.parametrize("field, value, message", [
    ("dt", "2025-10-08", "field 'dt'"),
    ("igst", "lots", "field 'igst' = 'lots' is not an amount"),
    ("txval", True, "field 'txval'"),
])
def test_a_bad_value_in_a_later_file_is_named_as_record_by_record(entries, field, value,
                                                                        message):
    bad = copy.deepcopy(entries)
    at = next(i for i, e in enumerate(bad) if e[1] == "b2b" and i > 3 * PER_FILE)
    bad[at][4][field] = value
    first, parts = files(bad)
    with pytest.raises(PayloadError) as whole:   # what fetch_2b + read_2b_frame said
        flatten_2b({"data": merge_2b_files(first, parts)})
    assert message in str(whole.value) and "docdata b2b record" in str(whole.value)
    raws = [read_2b_file(p) for p in parts]
    with pytest.raises(PayloadError) as in_files:
        read_2b_files(first, parts, raws)
    assert str(in_files.value) == str(whole.value)


def test_a_file_of_another_layout_is_read_record_by_record(entries):
    """A file whose section is not a list (or whose document carries its amounts per item)
    is not read by columns; the whole 2B is then read record by record, with its message."""
    first, parts = files(entries)
    assert read_2b_file({**parts[1], "docdata": {"b2b": {"not": "a list"}}}) is None
    summed = copy.deepcopy(parts[2])
    doc = summed["docdata"]["b2b"][0]["inv"][0]
    doc["items"] = [{"txval": doc.pop("txval"), "igst": doc.pop("igst"),
                     "cgst": doc.pop("cgst"), "sgst": doc.pop("sgst"), "cess": doc.pop("cess")}]
    assert read_2b_file(summed) is None
    parts[2] = summed
    _, frame = read_2b_files(first, parts, [read_2b_file(p) for p in parts])
    assert_frame_equal(frame, reference(merge_2b_files(first, parts))[1])
    assert frame.filter(frame["section"] == "b2b")["txval"].sum() > 0


@pytest.mark.parametrize("field, value", [("dt", "2025-10-08"), ("igst", "lots")])
def test_files_kept_as_columns_read_the_same_and_a_bad_one_is_read_whole(entries, field,
                                                                           value):
    """fetch_2b_frame keeps of each file only its columns and the rest of the file: the same
    frame; a bad value (found in a file, or only when the files' columns are read as one)
    -> the whole 2B, fetched again, read record by record with its message."""
    first, parts = files(entries)
    read = [read_2b_file_apart(p) for p in parts]
    assert not any(rest[b][s] for _, rest in read for b in ("docdata", "docRejdata")
                   for s in rest.get(b, {}) if s in FAST_SECTIONS)   # documents let go
    head, frame = read_2b_files(first, [rest for _, rest in read], [raw for raw, _ in read],
                                whole=lambda: pytest.fail("a clean 2B was fetched again"))
    ref_head, ref = reference(merge_2b_files(first, parts))
    assert head == ref_head
    assert_frame_equal(frame, ref)

    bad = copy.deepcopy(entries)
    at = next(i for i, e in enumerate(bad) if e[1] == "b2b" and i > 3 * PER_FILE)
    bad[at][4][field] = value
    first, parts = files(bad)
    with pytest.raises(PayloadError) as whole:
        flatten_2b({"data": merge_2b_files(first, parts)})
    read = [read_2b_file_apart(p) for p in parts]
    with pytest.raises(PayloadError) as apart:
        read_2b_files(first, [rest for _, rest in read], [raw for raw, _ in read],
                      whole=lambda: merge_2b_files(first, parts))
    assert str(apart.value) == str(whole.value)
