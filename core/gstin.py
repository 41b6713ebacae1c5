"""GSTIN, PAN and state-code validation (docs/gst-rules.md, "Identifiers")."""
from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

STATES = {
    "01": "Jammu & Kashmir", "02": "Himachal Pradesh", "03": "Punjab", "04": "Chandigarh",
    "05": "Uttarakhand", "06": "Haryana", "07": "Delhi", "08": "Rajasthan", "09": "Uttar Pradesh",
    "10": "Bihar", "11": "Sikkim", "12": "Arunachal Pradesh", "13": "Nagaland", "14": "Manipur",
    "15": "Mizoram", "16": "Tripura", "17": "Meghalaya", "18": "Assam", "19": "West Bengal",
    "20": "Jharkhand", "21": "Odisha", "22": "Chhattisgarh", "23": "Madhya Pradesh",
          "24": "Gujarat",
    "26": "Dadra & Nagar Haveli and Daman & Diu", "27": "Maharashtra", "29": "Karnataka",
          "30": "Goa",
    "31": "Lakshadweep", "32": "Kerala", "33": "Tamil Nadu", "34": "Puducherry",
    "35": "Andaman & Nicobar Islands", "36": "Telangana", "37": "Andhra Pradesh", "38": "Ladakh",
    "97": "Other Territory",
}
PLACE_OF_SUPPLY_ONLY = {"96": "Other Country"}

PAN_HOLDER_TYPES = {
    "C": "Company", "P": "Person", "F": "Firm", "H": "HUF", "A": "AOP", "T": "Trust",
    "B": "BOI", "L": "Local authority", "J": "Artificial juridical person", "G": "Government",
}

PAN_RE = re.compile(r"^[A-Z]{5}[0-9]{4}[A-Z]$")
GSTIN_RE = re.compile(r"^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z][A-Z0-9][0-9A-Z]$")


def check_character(first14: str) -> str:
    """The 15th character GSTN computes over the first 14."""
    total = 0
    for i, ch in enumerate(first14.upper()):
        product = ALPHABET.index(ch) * (1 if i % 2 == 0 else 2)
        total += product // 36 + product % 36
    return ALPHABET[(36 - total % 36) % 36]


def gstin_problem(value: str | None) -> str | None:
    """None when `value` is a valid GSTIN, else a sentence saying what is wrong."""
    if value is None or not str(value).strip():
        return "GSTIN is empty"
    g = str(value).strip().upper()
    if len(g) != 15:
        return f"GSTIN '{g}' has {len(g)} characters, not 15"
    if not GSTIN_RE.match(g):
        return f"GSTIN '{g}' is not in the format 99AAAAA9999A9Z9 (state, PAN, entity, Z, check)"
    if g[:2] not in STATES:
        return f"GSTIN '{g}' starts with unknown state code {g[:2]}"
    expected = check_character(g[:14])
    if g[14] != expected:
        return f"GSTIN '{g}' has check character {g[14]}, expected {expected}"
    return None


def is_valid_gstin(value: str | None) -> bool:
    return gstin_problem(value) is None


def pan_problem(value: str | None) -> str | None:
    if value is None or not PAN_RE.match(str(value).strip().upper()):
        return f"PAN '{value}' is not in the format AAAAA9999A"
    if str(value).strip().upper()[3] not in PAN_HOLDER_TYPES:
        return f"PAN '{value}' has unknown holder type {str(value).strip().upper()[3]}"
    return None


def pan_of(gstin: str) -> str:
    """Characters 3..12 of a GSTIN: the holder's PAN."""
    return gstin[2:12]


def state_of(gstin: str) -> str:
    return gstin[:2]


def state_name(code: str) -> str | None:
    return STATES.get(code) or PLACE_OF_SUPPLY_ONLY.get(code)


def make_gstin(state: str, pan: str, entity: str = "1") -> str:
    """Build a GSTIN with the right check character (demo data, tests)."""
    first14 = f"{state}{pan}{entity}Z"
    return first14 + check_character(first14)
