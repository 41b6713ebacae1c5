"""`python -m sandbox generate`: the sandbox's data for one demo GSTIN written as files.

ims.json (IMS GETINV shape), gstr2a.json (GSTR-2A shape), purchase_register.csv (the books,
with the noise of sandbox/books.py) and ground_truth.csv (which books line is which portal
record). Same arguments -> the same bytes.
"""
from __future__ import annotations

import json
from pathlib import Path

from sandbox import books
from sandbox.demo import DEMO_BUSINESSES
from sandbox.synth import BusinessData, build_business, gstr2a_document


def generate_files(out_dir, records: int = 3000, seed: int = 1, gstin: str | None = None,
                   books_only: bool = False) -> dict:
    """Write ims.json, gstr2a.json, purchase_register.csv and ground_truth.csv for one demo
    GSTIN (default the first) into `out_dir`; same arguments -> same bytes (books_only: just
    the two CSV files, the same bytes as without it). Returns paths and counts."""
    wanted = gstin or DEMO_BUSINESSES[0]["gstin"]
    business = next(b for b in DEMO_BUSINESSES if b["gstin"] == wanted)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    biz = build_business(seed, business["gstin"], business["state_code"], records)
    names = ("purchase_register.csv", "ground_truth.csv")
    if not books_only:
        names += ("ims.json", "gstr2a.json")
    paths = {name: out / name for name in names}
    if not books_only:
        _write_json(biz, paths["ims.json"], paths["gstr2a.json"])
    counts = books.write_books(biz, seed, paths["purchase_register.csv"],
                               paths["ground_truth.csv"])
    return {**{k.split(".")[0]: str(v) for k, v in paths.items()},
            "ims_records": sum(len(v) for v in biz.records.values()), **counts}


def _write_json(biz: BusinessData, ims_path: Path, gstr2a_path: Path) -> None:
    compact = {"separators": (",", ":")}
    ims_path.write_text(json.dumps({"gstin": biz.gstin, **biz.records}, **compact),
                        encoding="utf-8")
    gstr2a_path.write_text(json.dumps({"gstin": biz.gstin, **gstr2a_document(biz)}, **compact),
                           encoding="utf-8")
